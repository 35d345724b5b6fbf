"""Strings of one byte width laid out back to back, seen as a numpy grid of bytes.

Codes (countries, SKUs, status flags) usually are; checks on them then run on integers
and bytes instead of hashing or matching every string.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

MAX_KEY_WIDTH = 8


def string_offsets(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The value offsets and the data bytes of a string array chunk (zero-copy)."""
    n = len(chunk)
    _, offset_buffer, data_buffer = chunk.buffers()
    offsets = np.frombuffer(offset_buffer, np.int32)[chunk.offset : chunk.offset + n + 1]
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    )
    return offsets, data


def byte_grid(chunk: pa.Array) -> np.ndarray | None:
    """An (n, width) view of the values when all have one width and no null; else None."""
    n = len(chunk)
    if n == 0 or chunk.null_count:
        return None
    offsets, data = string_offsets(chunk)
    width = int(offsets[1] - offsets[0])
    if offsets[-1] - offsets[0] != n * width or np.any(np.diff(offsets) != width):
        return None
    start = int(offsets[0])
    return data[start : start + n * width].reshape(n, width)


_VIEWS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def keys(grid: np.ndarray) -> np.ndarray:
    """One integer per row of a byte grid at most 8 bytes wide: its bytes, little-endian."""
    n, width = grid.shape
    if width in _VIEWS:
        return grid.view(_VIEWS[width]).ravel()
    padded = np.zeros((n, MAX_KEY_WIDTH), dtype=np.uint8)
    padded[:, :width] = grid
    return padded.view(np.uint64).ravel()


def key_of(text: str, width: int) -> int | None:
    """The key ``keys`` gives ``text``, or None when it is not ``width`` bytes long."""
    data = text.encode()
    return int.from_bytes(data, "little") if len(data) == width else None


def text_of(key: int, width: int) -> str:
    return key.to_bytes(width, "little").decode()
