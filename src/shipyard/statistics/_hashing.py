"""Fixed 64-bit hashes of column values, vectorised, for the distinct-count sketch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

HASH_BYTES = 1 << 20

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
Hashes = np.ndarray[Any, np.dtype[np.uint64]]


def mix64(values: Hashes) -> Hashes:
    """SplitMix64's finaliser: a fixed, well-spread 64-bit hash of 64-bit keys."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def value_hashes(values: pa.Array | pa.ChunkedArray) -> Hashes:
    """The hash of each (non-null) value: strings by their UTF-8 bytes, others by 64-bit key."""
    if isinstance(values, pa.ChunkedArray):
        parts = [value_hashes(chunk) for chunk in values.chunks if len(chunk)]
        return np.concatenate(parts) if parts else np.empty(0, np.uint64)
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return string_hashes(values.cast(pa.string()))
    if pa.types.is_boolean(kind):
        return mix64(values.cast(pa.uint64()).to_numpy(zero_copy_only=False))
    return mix64(int64_keys(values).view(np.uint64))


def int64_keys(values: pa.Array) -> np.ndarray[Any, np.dtype[np.int64]]:
    """A 64-bit key per value: floats by their bits (-0.0 as 0.0), the rest as integers."""
    if pa.types.is_floating(values.type):
        as_float = values.cast(pa.float64()).to_numpy(zero_copy_only=False) + 0.0
        keys: np.ndarray[Any, np.dtype[np.int64]] = as_float.view(np.int64)
    elif pa.types.is_unsigned_integer(values.type):
        keys = values.cast(pa.uint64()).to_numpy(zero_copy_only=False).view(np.int64)
    elif pa.types.is_date(values.type):
        keys = values.cast(pa.int32()).cast(pa.int64()).to_numpy(zero_copy_only=False)
    else:
        keys = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return keys


def string_hashes(array: pa.Array) -> Hashes:
    """A 64-bit hash of each string, about ``HASH_BYTES`` of text at a time.

    The vectorised hash holds several 8-byte numbers per byte of text; hashing in slices
    bounds that working memory whatever the batch size, and gives the same hashes.
    """
    if len(array) == 0:
        return np.empty(0, np.uint64)
    bounds = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = bounds[array.offset : array.offset + len(array) + 1].astype(np.int64)
    if offsets[-1] - offsets[0] <= HASH_BYTES:
        return _string_hashes_of(array)
    targets = np.arange(offsets[0] + HASH_BYTES, offsets[-1], HASH_BYTES)
    cuts = np.unique(np.concatenate(([0], np.searchsorted(offsets, targets), [len(array)])))
    return np.concatenate(
        [
            _string_hashes_of(array.slice(start, end - start))
            for start, end in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)
            if end > start
        ]
    )


def _string_hashes_of(array: pa.Array) -> Hashes:
    """A 64-bit hash of each string, vectorised: mixed (byte, position) terms summed."""
    bounds = np.frombuffer(array.buffers()[1], dtype=np.int32)
    offsets = bounds[array.offset : array.offset + len(array) + 1].astype(np.int64)
    buffer = array.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None else np.empty(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    position = np.arange(len(data), dtype=np.int64) - offsets[:-1][owner]
    terms = mix64(data.astype(np.uint64) | (position.astype(np.uint64) << np.uint64(8)))
    sums = np.add.reduceat(np.append(terms, np.uint64(0)), offsets[:-1])
    sums[lengths == 0] = 0
    with np.errstate(over="ignore"):
        return mix64(sums ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
