"""Column moments of one part, measured fast; merged with shipyard.statistics.Moments.

The report's column profile is built from the merged moments, so the contract engine and
every other profile share one merge (Chan's update) and one definition of each statistic.
"""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._fixed_width import string_offsets
from shipyard.data import ColumnType
from shipyard.schemas.contract_report import ColumnStatistics
from shipyard.statistics import NUMERIC, TEMPORAL, Moments

__all__ = ["NUMERIC", "TEMPORAL", "Moments", "column_statistics", "measure", "string_lengths"]


def column_statistics(moments: Moments, name: str, kind: ColumnType) -> ColumnStatistics:
    """The report's profile of a column from its merged moments (non-finite numbers as None)."""
    numeric = kind in NUMERIC and moments.count > 0
    variance = moments.variance() if numeric else None
    return ColumnStatistics(
        name=name,
        type=kind,
        count=moments.count,
        missing=moments.missing,
        min=_json_number(moments.min),
        max=_json_number(moments.max),
        mean=_finite(moments.mean) if numeric else None,
        std=_finite(math.sqrt(variance)) if variance is not None and variance >= 0 else None,
        min_length=moments.min_length,
        max_length=moments.max_length,
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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_number(value: Any) -> float | int | str | None:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return _finite(value)
    return value if isinstance(value, int | str) else None
