"""Statistics profile of a dataset, computed column by column with pyarrow.compute."""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from shipyard.data._schema import ColumnType, column_type

TOP_VALUES = 10
QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
_NON_FINITE_JSON = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


class Quantiles(BaseModel):
    """Exact quantiles with linear interpolation, as numpy.quantile computes them."""

    model_config = ConfigDict(ser_json_inf_nan="strings")

    p01: float
    p05: float
    p25: float
    p50: float
    p75: float
    p95: float
    p99: float


class ValueCount(BaseModel):
    """A value and the number of rows holding it."""

    value: str | bool
    count: int


class ColumnProfile(BaseModel):
    """Statistics of one column; fields that do not apply to its type are None.

    A NaN in a float column counts as missing: it is in ``nulls`` (and ``nans``) and left
    out of every other statistic. ``distinct`` is the exact number of distinct values.
    ``std`` is the sample standard deviation (ddof=1). Ties in ``top_values`` are ordered
    by value. Infinities are values: they can make ``mean`` or ``std`` infinite or NaN,
    which JSON carries as the strings "Infinity" and "NaN".
    """

    model_config = ConfigDict(ser_json_inf_nan="strings")

    name: str
    type: ColumnType
    count: int
    nulls: int
    nans: int
    null_fraction: float
    distinct: int
    min: int | float | str | None = None
    max: int | float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: Quantiles | None = None
    top_values: list[ValueCount] | None = None
    min_length: int | None = None
    max_length: int | None = None

    @field_serializer("min", "max", when_used="json")
    def _non_finite_as_string(self, value: int | float | str | None) -> int | float | str | None:
        if isinstance(value, float) and not math.isfinite(value):
            return _NON_FINITE_JSON[str(value)]
        return value

    @field_validator("min", "max", mode="before")
    @classmethod
    def _non_finite_from_string(cls, value: object) -> object:
        if isinstance(value, str) and value in _NON_FINITE_JSON.values():
            return float(value)
        return value


class DatasetProfile(BaseModel):
    """Row count and one profile per column, in column order."""

    rows: int
    columns: list[ColumnProfile]


def profile_table(table: pa.Table) -> DatasetProfile:
    """Profile every column of a normalised table, several columns at a time."""
    fields = list(table.schema)
    with ThreadPoolExecutor(max_workers=min(len(fields), os.cpu_count() or 1) or 1) as pool:
        columns = list(
            pool.map(
                _profile_column,
                [field.name for field in fields],
                [column_type(field.name, field.type) for field in fields],
                table.columns,
            )
        )
    return DatasetProfile(rows=table.num_rows, columns=columns)


def _profile_column(name: str, kind: ColumnType, column: pa.ChunkedArray) -> ColumnProfile:
    nans = 0
    if kind == "float":
        is_nan = pc.is_nan(column)
        nans = pc.sum(is_nan).as_py() or 0
        values = column.filter(pc.invert(is_nan))
    else:
        values = pc.drop_null(column)
    rows = len(column)
    missing = rows - len(values)
    base: dict[str, Any] = {
        "name": name,
        "type": kind,
        "count": len(values),
        "nulls": missing,
        "nans": nans,
        "null_fraction": missing / rows if rows else 0.0,
    }
    if kind in ("integer", "float"):
        return ColumnProfile(**base, **_numeric_stats(values))
    if kind in ("string", "boolean"):
        return ColumnProfile(**base, **_categorical_stats(values, kind == "string"))
    return ColumnProfile(**base, **_temporal_stats(values))


def _numeric_stats(values: pa.ChunkedArray) -> dict[str, Any]:
    stats: dict[str, Any] = {"distinct": pc.count_distinct(values).as_py()}
    if len(values) == 0:
        return stats
    extremes = pc.min_max(values)
    as_float = values.cast(pa.float64(), safe=False)
    quantiles = pc.quantile(as_float, q=list(QUANTILES.values()), interpolation="linear")
    return stats | {
        "min": extremes["min"].as_py(),
        "max": extremes["max"].as_py(),
        "mean": pc.mean(as_float).as_py(),
        "std": pc.stddev(as_float, ddof=1).as_py(),
        "quantiles": Quantiles(**dict(zip(QUANTILES, quantiles.to_pylist(), strict=True))),
    }


def _categorical_stats(values: pa.ChunkedArray, is_string: bool) -> dict[str, Any]:
    counts = pc.value_counts(values)
    ranked = pa.table({"value": counts.field("values"), "count": counts.field("counts")})
    order = [("count", "descending"), ("value", "ascending")]
    top = ranked.take(pc.select_k_unstable(ranked, k=TOP_VALUES, sort_keys=order))
    stats: dict[str, Any] = {
        "distinct": len(counts),
        "top_values": [ValueCount(**row) for row in top.sort_by(order).to_pylist()],
    }
    if is_string and len(values) > 0:
        lengths = pc.min_max(pc.utf8_length(values))
        stats |= {"min_length": lengths["min"].as_py(), "max_length": lengths["max"].as_py()}
    return stats


def _temporal_stats(values: pa.ChunkedArray) -> dict[str, Any]:
    stats: dict[str, Any] = {"distinct": pc.count_distinct(values).as_py()}
    if len(values) == 0:
        return stats
    extremes = pc.min_max(values)
    return stats | {
        "min": extremes["min"].as_py().isoformat(),
        "max": extremes["max"].as_py().isoformat(),
    }
