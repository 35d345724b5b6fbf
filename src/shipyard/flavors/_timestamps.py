"""Timestamp inputs as epoch seconds: from Arrow, pandas, ISO-8601 text and numbers.

A ``timestamp`` signature column reaches every model as float seconds since the
Unix epoch (UTC; missing as NaN), so it rides in the same float matrix as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput

_PER_UNIT = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_EPOCH = pd.Timestamp(0, tz="UTC")
_SECOND = pd.Timedelta(seconds=1)


def arrow_epoch_seconds(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow timestamp, date or number column as float epoch seconds, nulls as NaN."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_timestamp(kind):
        scale, whole = _PER_UNIT[kind.unit], column.cast(pa.int64())
    elif pa.types.is_date32(kind):
        scale, whole = 1.0 / 86400, column.cast(pa.int32())
    elif pa.types.is_date64(kind):
        scale, whole = 1e3, column.cast(pa.int64())
    else:
        return np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    seconds = np.asarray(whole.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.float64)
    seconds /= scale
    if whole.null_count:
        seconds[np.asarray(whole.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = np.nan
    return seconds


def datetime_seconds(values: pd.Series) -> np.ndarray:
    """A pandas datetime column (naive as UTC, or zone-aware) as float epoch seconds."""
    stamps = values.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(stamps)
    seconds: np.ndarray = stamps.astype(np.int64) / 1e9
    seconds[missing] = np.nan
    return seconds


def timestamp_seconds(values: Sequence[Any], name: str) -> np.ndarray:
    """Request values (epoch seconds, ISO-8601 strings, None) as float epoch seconds.

    Strings without a zone are read as UTC. InvalidInput names the column and the
    first value that is neither.
    """
    types = set(map(type, values))
    if types <= {int, float}:
        return np.array(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    text: list[int] = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is int or kind is float:
            out[i] = value
        elif kind is str:
            text.append(i)
        elif value is not None:
            raise InvalidInput(
                f"expected an ISO-8601 timestamp or epoch seconds, got {value!r:.40}", field=name
            )
    if text:
        out[text] = _iso_seconds([values[i] for i in text], name)
    return out


def text_timestamp_seconds(cells: Sequence[str], name: str) -> np.ndarray:
    """CSV cells (epoch seconds or ISO-8601; empty as missing) as float epoch seconds."""
    out = np.full(len(cells), np.nan)
    text: list[int] = []
    for i, cell in enumerate(cells):
        stripped = cell.strip()
        if not stripped:
            continue
        try:
            out[i] = float(stripped)
        except ValueError:
            text.append(i)
    if text:
        out[text] = _iso_seconds([cells[i].strip() for i in text], name)
    return out


def _iso_seconds(text: list[str], name: str) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(text), utc=True, format="ISO8601", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = text[int(np.argmax(bad))]
        raise InvalidInput(
            f"expected an ISO-8601 timestamp or epoch seconds, got {first!r:.40}", field=name
        )
    seconds: np.ndarray = ((parsed - _EPOCH) / _SECOND).to_numpy(dtype=np.float64)
    return seconds
