"""Profiling an output table chunk by chunk, in memory that does not grow with its size.

Counts, nulls, NaNs, minimum, maximum, mean, standard deviation and string
lengths are exact, merged across chunks. Distinct counts, quantiles and top
values need every value at once, so above ``SAMPLE_ROWS`` rows they come from
a fixed-seed uniform sample, and the profile says so under ``"sample"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.data import ColumnSchema, profile_table, table_schema

SAMPLE_ROWS = 200_000
ESTIMATED = ("distinct", "quantiles", "top_values")


@dataclass
class _Column:
    """Exact running statistics of one column."""

    kind: str
    rows: int = 0
    count: int = 0
    nans: int = 0
    low: Any = None
    high: Any = None
    mean: float = 0.0
    m2: float = 0.0
    min_length: int | None = None
    max_length: int | None = None

    def update(self, column: pa.ChunkedArray | pa.Array) -> None:
        self.rows += len(column)
        if self.kind == "float":
            is_nan = pc.fill_null(pc.is_nan(column), False)
            self.nans += pc.sum(is_nan).as_py() or 0
            values = pc.drop_null(column.filter(pc.invert(is_nan)))
        else:
            values = pc.drop_null(column)
        if len(values) == 0:
            return
        if self.kind in ("integer", "float", "timestamp", "date"):
            extremes = pc.min_max(values)
            low, high = extremes["min"].as_py(), extremes["max"].as_py()
            self.low = low if self.low is None else min(self.low, low)
            self.high = high if self.high is None else max(self.high, high)
        if self.kind in ("integer", "float"):
            self._merge_moments(np.asarray(values.cast(pa.float64(), safe=False)))
        elif self.kind == "string":
            lengths = pc.min_max(pc.utf8_length(values))
            low, high = lengths["min"].as_py(), lengths["max"].as_py()
            self.min_length = low if self.min_length is None else min(self.min_length, low)
            self.max_length = high if self.max_length is None else max(self.max_length, high)
        self.count += len(values)

    def _merge_moments(self, values: np.ndarray) -> None:
        """Chan et al.'s parallel update of mean and sum of squared deviations."""
        n = len(values)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = float(values.mean())
            m2 = float(((values - mean) ** 2).sum())
            total = self.count + n
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.count * n / total

    def exact(self) -> dict[str, Any]:
        missing = self.rows - self.count
        fields: dict[str, Any] = {
            "count": self.count,
            "nulls": missing,
            "nans": self.nans,
            "null_fraction": missing / self.rows if self.rows else 0.0,
        }
        if self.kind in ("integer", "float") and self.count:
            std = math.sqrt(self.m2 / (self.count - 1)) if self.count > 1 else None
            fields |= {"min": self.low, "max": self.high, "mean": self.mean, "std": std}
        elif self.kind in ("timestamp", "date") and self.count:
            fields |= {"min": self.low.isoformat(), "max": self.high.isoformat()}
        elif self.kind == "string" and self.count:
            fields |= {"min_length": self.min_length, "max_length": self.max_length}
        return fields


class StreamingProfile:
    """Schema and profile of a table seen one chunk at a time."""

    def __init__(self, schema: pa.Schema, total_rows: int) -> None:
        self.schema = schema
        self._columns = [_Column(c.type) for c in table_schema(schema.empty_table())]
        self._fraction = min(1.0, SAMPLE_ROWS / total_rows) if total_rows else 1.0
        self._sample: list[pa.Table] = []
        self.rows = 0

    @property
    def sampled(self) -> bool:
        return self._fraction < 1.0

    def update(self, table: pa.Table, chunk: int) -> None:
        """Add one chunk; ``chunk`` seeds its share of the sample so reruns pick the same rows."""
        self.rows += table.num_rows
        if not self.sampled:
            self._sample.append(table)
            return
        for stats, column in zip(self._columns, table.columns, strict=True):
            stats.update(column)
        take = min(table.num_rows, math.ceil(table.num_rows * self._fraction))
        picked = np.sort(np.random.default_rng(chunk).choice(table.num_rows, take, replace=False))
        self._sample.append(table.take(pa.array(picked)))

    def result(self) -> tuple[list[ColumnSchema], dict[str, Any]]:
        """Column schemas and the profile (as stored with a dataset version)."""
        sample = pa.concat_tables(self._sample) if self._sample else self.schema.empty_table()
        profile = profile_table(sample).model_dump(mode="json")
        if self.sampled:
            for column, stats in zip(profile["columns"], self._columns, strict=True):
                column.update(_json_safe(stats.exact()))
            profile["rows"] = self.rows
            profile["sample"] = {"rows": sample.num_rows, "estimated": list(ESTIMATED)}
        schema = [
            column.model_copy(update={"nullable": stats["nulls"] > 0})
            for column, stats in zip(table_schema(sample), profile["columns"], strict=True)
        ]
        return schema, profile


def _json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    names = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}
    return {
        key: names[str(value)] if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in fields.items()
    }
