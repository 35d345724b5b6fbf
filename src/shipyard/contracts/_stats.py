"""Column statistics gathered part by part and merged: the profile in a validation report."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._fixed_width import string_offsets
from shipyard.contracts._report import ColumnStatistics
from shipyard.data import ColumnType

NUMERIC: frozenset[ColumnType] = frozenset({"integer", "float"})
TEMPORAL: frozenset[ColumnType] = frozenset({"date", "timestamp"})


@dataclass
class Moments:
    """Count, extremes, mean and sum of squared deviations; merged with Chan's formula."""

    count: int = 0
    missing: int = 0
    min: Any = None
    max: Any = None
    mean: float = 0.0
    m2: float = 0.0
    min_length: int | None = None
    max_length: int | None = None

    def merge(self, other: Moments) -> None:
        total = self.count + other.count
        if total and other.count:
            delta = other.mean - self.mean
            self.m2 += other.m2 + delta * delta * self.count * other.count / total
            self.mean += delta * other.count / total
        self.count = total
        self.missing += other.missing
        self.min = _pick(min, self.min, other.min)
        self.max = _pick(max, self.max, other.max)
        self.min_length = _pick(min, self.min_length, other.min_length)
        self.max_length = _pick(max, self.max_length, other.max_length)

    def statistics(self, name: str, kind: ColumnType) -> ColumnStatistics:
        numeric = kind in NUMERIC and self.count > 0
        return ColumnStatistics(
            name=name,
            type=kind,
            count=self.count,
            missing=self.missing,
            min=_json_number(self.min),
            max=_json_number(self.max),
            mean=_finite(self.mean) if numeric else None,
            std=_finite(math.sqrt(self.m2 / (self.count - 1)))
            if numeric and self.count > 1
            else None,
            min_length=self.min_length,
            max_length=self.max_length,
        )


def measure(
    values: pa.ChunkedArray, missing: int, kind: ColumnType, mean: pa.Scalar | None = None
) -> Moments:
    """The moments of one part's values; they may hold nulls (skipped), but no NaN.

    ``mean`` is Arrow's mean of these same values when the caller has it already.
    """
    moments = Moments(count=len(values) - values.null_count, missing=missing)
    if moments.count == 0:
        return moments
    if kind == "float":
        moments.min, moments.max = _float_extremes(values)
    elif kind in NUMERIC or kind in TEMPORAL:
        extremes = pc.min_max(values)
        moments.min, moments.max = extremes["min"].as_py(), extremes["max"].as_py()
    if kind in NUMERIC:
        moments.mean = (mean if mean is not None else pc.mean(values)).as_py()
        moments.m2 = pc.variance(values, ddof=0).as_py() * moments.count
    elif kind == "string":
        moments.min_length, moments.max_length = string_lengths(values)
    return moments


def string_lengths(present: pa.ChunkedArray) -> tuple[int, int]:
    """Shortest and longest value in characters; ASCII text is measured from its offsets."""
    low, high = None, None
    for chunk in present.chunks:
        if len(chunk) == chunk.null_count:
            continue
        offsets, data = string_offsets(chunk)
        if data[offsets[0] : offsets[-1]].max(initial=0) < 128:  # ASCII; no mask of the bytes
            sizes = np.diff(offsets)
            if chunk.null_count:
                sizes = sizes[chunk.is_valid().to_numpy(zero_copy_only=False)]
            chunk_low, chunk_high = int(sizes.min()), int(sizes.max())
        else:
            extremes = pc.min_max(pc.utf8_length(chunk))
            chunk_low, chunk_high = extremes["min"].as_py(), extremes["max"].as_py()
        low = chunk_low if low is None else min(low, chunk_low)
        high = chunk_high if high is None else max(high, chunk_high)
    return low or 0, high or 0


def _float_extremes(values: pa.ChunkedArray) -> tuple[float | None, float | None]:
    """Min and max of floats without NaN; numpy is much quicker than Arrow's NaN-aware kernel."""
    low, high = None, None
    for chunk in values.chunks:
        if len(chunk) == chunk.null_count:
            continue
        # nulls become NaN, which fmin and fmax pass over: no copy without the nulls
        array = chunk.to_numpy(zero_copy_only=False)
        chunk_low, chunk_high = float(np.fmin.reduce(array)), float(np.fmax.reduce(array))
        low = chunk_low if low is None else min(low, chunk_low)
        high = chunk_high if high is None else max(high, chunk_high)
    return low, high


def _pick(choose: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else choose(a, b)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_number(value: Any) -> float | int | str | None:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return _finite(value)
    return value if isinstance(value, int | str) else None
