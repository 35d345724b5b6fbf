"""A fast path for fixed-width character-class patterns such as ``^[A-Z]{2}\\d{4}$``.

Such a pattern (what ``infer_pattern`` suggests for codes) is checked on the string bytes
with numpy, position by position, instead of running a regex on every value. Patterns of
any other shape return None and go to RE2.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from shipyard.contracts._fixed_width import byte_grid, string_offsets

BLOCK_ROWS = 1 << 15
"""Rows compared at once: the block's bytes stay in cache and its buffer is reused."""

_TOKEN = re.compile(r"\[A-Z\]|\[a-z\]|\[0-9\]|\\d|\\[^\w\s]|[A-Za-z0-9 _:@#%&=,;'\"<>~`!-]")
_COUNT = re.compile(r"\{(\d+)\}")
_CLASSES = {"[A-Z]": (65, 90), "[a-z]": (97, 122), "[0-9]": (48, 57), r"\d": (48, 57)}


@dataclass(frozen=True)
class FixedPattern:
    """Byte ranges, one per character position, of a fixed-width ASCII pattern."""

    ranges: tuple[tuple[int, int], ...]

    def failing(self, values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
        """Rows whose value does not match (null rows do not fail)."""
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        return pa.chunked_array([self._chunk(c) for c in chunks], pa.bool_())

    def failing_rows(self, chunk: pa.StringArray) -> np.ndarray:
        """Positions of the rows that do not match, in order, without a mask per row.

        Values of the pattern's width back to back are compared in cache-sized blocks on
        their bytes, against the pattern's byte ranges tiled to the block; only the words
        holding a mismatching byte are looked at again. Others go through ``_chunk``.
        """
        width = len(self.ranges)
        grid = byte_grid(chunk)
        if grid is None or grid.shape[1] != width:
            return np.flatnonzero(self._chunk(chunk).to_numpy(zero_copy_only=False))
        data = grid.reshape(-1)
        size = min(len(data), BLOCK_ROWS * width)
        lows, spans = _tiled(self.ranges)
        buffer = np.zeros(-(-size // 8) * 8, np.uint8)
        words: list[np.ndarray] = []
        contents: list[np.ndarray] = []
        for start in range(0, len(data), size):
            block = data[start : start + size]
            used = buffer[: len(block)]
            np.subtract(block, lows[: len(block)], out=used)
            np.greater(used, spans[: len(block)], out=used.view(np.bool_))
            buffer[len(block) :] = 0
            packed = buffer.view(np.uint64)
            found = np.flatnonzero(packed != 0)  # nonzero is much quicker on booleans
            if len(found):
                words.append(found + start // 8)
                contents.append(packed[found])
        if not words:
            return np.empty(0, np.int64)
        inside = np.flatnonzero(np.concatenate(contents).view(np.uint8))
        mismatched = np.concatenate(words)[inside // 8] * 8 + inside % 8
        return np.unique(mismatched // width)

    def _chunk(self, chunk: pa.StringArray) -> pa.Array:
        width = len(self.ranges)
        grid = byte_grid(chunk)
        if grid is not None and grid.shape[1] == width:
            match = np.ones(len(chunk), dtype=bool)
            for position, (low, high) in enumerate(self.ranges):
                match &= (grid[:, position] - np.uint8(low)) <= np.uint8(high - low)
            return pa.array(~match, pa.bool_())
        offsets, data = string_offsets(chunk)
        starts = offsets[:-1]
        match = (offsets[1:] - starts) == width
        rows = np.flatnonzero(match)
        if width and len(rows):
            ok = np.ones(len(rows), dtype=bool)
            for position, (low, high) in enumerate(self.ranges):
                ok &= (data[starts[rows] + position] - np.uint8(low)) <= np.uint8(high - low)
            match[rows] = ok
        failing = ~match
        if chunk.null_count:
            failing &= chunk.is_valid().to_numpy(zero_copy_only=False)
        return pa.array(failing, pa.bool_())


@functools.lru_cache(maxsize=32)
def _tiled(ranges: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    """The lowest byte and the span of each position, repeated for a block of rows."""
    lows = np.empty((BLOCK_ROWS, len(ranges)), np.uint8)
    spans = np.empty((BLOCK_ROWS, len(ranges)), np.uint8)
    lows[:] = [low for low, _ in ranges]
    spans[:] = [high - low for low, high in ranges]
    return lows.reshape(-1), spans.reshape(-1)


def compile_fixed(regex: str) -> FixedPattern | None:
    """The fast form of an anchored fixed-width ASCII class pattern, or None."""
    if not (regex.startswith("^") and regex.endswith("$")) or regex.endswith("\\$"):
        return None
    body, ranges = regex[1:-1], []
    while body:
        token = _TOKEN.match(body)
        if token is None:
            return None
        body = body[token.end() :]
        count = _COUNT.match(body)
        repeat = int(count.group(1)) if count else 1
        body = body[count.end() :] if count else body
        text = token.group(0)
        if text in _CLASSES:
            span = _CLASSES[text]
        else:
            char = text[-1]
            span = (ord(char), ord(char))
        ranges.extend([span] * repeat)
    if not ranges or len(ranges) > 256:
        return None
    return FixedPattern(tuple(ranges))
