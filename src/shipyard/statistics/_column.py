"""One column's mergeable summary: counts, moments, quantiles, distinct values, top values."""

from __future__ import annotations

import datetime
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.data._schema import column_type
from shipyard.errors import InvalidInput
from shipyard.schemas.datasets import ColumnType
from shipyard.statistics._distinct import DistinctSketch
from shipyard.statistics._encoding import decode_float, encode_float
from shipyard.statistics._hashing import mix64, string_hashes, value_hashes
from shipyard.statistics._moments import Moments
from shipyard.statistics._options import PROFILE, SummaryOptions
from shipyard.statistics._profile import QUANTILES, TOP_VALUES
from shipyard.statistics._quantiles import QuantileSketch
from shipyard.statistics._top import TopCounts

NUMERIC: frozenset[ColumnType] = frozenset({"integer", "float"})
CATEGORICAL: frozenset[ColumnType] = frozenset({"string", "boolean"})
TEMPORAL: frozenset[ColumnType] = frozenset({"date", "timestamp"})
FORMAT = 1


class ColumnSummary:
    """The mergeable summary of one column of type ``kind`` (a Shipyard column type).

    ``update`` adds a batch of values (an Arrow array; nulls, and NaN in float columns, are
    missing), ``merge`` adds another summary of the same column, ``to_dict``/``from_dict``
    serialize it as JSON-safe data, ``profile`` gives the column's profile document.
    Counts, missing values, min, max, string lengths, mean and variance are exact whatever
    the size; quantiles, distinct counts and top values are exact up to the option sizes and
    close estimates past them (``approximations`` lists which).
    """

    def __init__(self, name: str, kind: ColumnType, options: SummaryOptions = PROFILE) -> None:
        self.name, self.kind, self.options = name, kind, options
        self.rows = self.nans = 0
        self.moments = Moments()
        self.distinct = DistinctSketch(options.distinct_k)
        self.quantiles = QuantileSketch(options.quantile_k, options.exact_values)
        self.top = TopCounts(options.top_cap) if kind in CATEGORICAL else None

    @property
    def nulls(self) -> int:
        """Missing values: nulls and, in float columns, NaN."""
        return self.moments.missing

    @property
    def count(self) -> int:
        """Present values."""
        return self.moments.count

    def update(self, values: pa.Array | pa.ChunkedArray) -> ColumnSummary:
        """Add a batch of this column's values; returns self."""
        kind = column_type(self.name, values.type)
        if kind != self.kind:
            values = self._conform(kind, values)
        self.rows += len(values)
        if self.kind in NUMERIC:
            self._update_numeric(values)
        elif self.kind in CATEGORICAL:
            self._update_categorical(values)
        else:
            self._update_temporal(values)
        return self

    def _conform(self, kind: ColumnType, values: pa.Array | pa.ChunkedArray) -> Any:
        """Integers widen to a float column, and a float batch widens an integer column."""
        if self.kind == "float" and kind == "integer":
            return values.cast(pa.float64())
        if self.kind == "integer" and kind == "float" and self.rows == self.nulls:
            self.kind = "float"
            return values
        if self.kind == "integer" and kind == "float":
            self._widen()
            return values
        raise InvalidInput(
            f"column {self.name!r} holds {kind} values, the summary is of {self.kind}",
            field=self.name,
        )

    def _widen(self) -> None:
        self.kind = "float"
        for attribute in ("min", "max"):
            value = getattr(self.moments, attribute)
            setattr(self.moments, attribute, None if value is None else float(value))

    def _update_numeric(self, values: pa.Array | pa.ChunkedArray) -> None:
        nulls = values.null_count
        if self.kind == "float":
            array = _float_numpy(values)
            is_nan = np.isnan(array)
            missing = int(is_nan.sum())
            self.nans += missing - nulls
            present = array[~is_nan] if missing else array
            keys = (present + 0.0).view(np.uint64)  # -0.0 and 0.0 count as one value
            floats = present
        else:
            kept = pc.drop_null(values) if nulls else values
            present = _int_numpy(kept)
            missing = nulls
            keys = present.view(np.uint64)
            floats = present.astype(np.float64)
        part = Moments.of(floats, missing)
        if len(present):
            part.min, part.max = present.min().item(), present.max().item()
        self.moments.merge(part)
        self.distinct.add(mix64(keys))
        self.quantiles.update(floats)

    def _update_categorical(self, values: pa.Array | pa.ChunkedArray) -> None:
        assert self.top is not None
        present = pc.drop_null(values) if values.null_count else values
        self.moments.merge(Moments(count=len(present), missing=len(values) - len(present)))
        if len(present) == 0:
            return
        uniques = self.top.update(present)
        if self.kind == "string":
            uniques = uniques.cast(pa.string())
            self.distinct.add(string_hashes(uniques))
            lengths = pc.min_max(pc.utf8_length(uniques))
            part = Moments(min_length=lengths["min"].as_py(), max_length=lengths["max"].as_py())
            self.moments.merge(part)
        else:
            self.distinct.add(value_hashes(uniques))

    def _update_temporal(self, values: pa.Array | pa.ChunkedArray) -> None:
        present = pc.drop_null(values) if values.null_count else values
        part = Moments(count=len(present), missing=len(values) - len(present))
        if len(present):
            extremes = pc.min_max(present)
            part.min, part.max = extremes["min"].as_py(), extremes["max"].as_py()
            self.distinct.add(value_hashes(present))
        self.moments.merge(part)

    def merge(self, other: ColumnSummary) -> ColumnSummary:
        """Add every value ``other`` summarises (the same column, maybe other rows); self."""
        if other.kind != self.kind:
            if {self.kind, other.kind} != NUMERIC:
                raise InvalidInput(
                    f"cannot merge a {other.kind} summary of {self.name!r} into a {self.kind} one",
                    field=self.name,
                )
            if self.kind == "integer":
                self._widen()
        self.rows += other.rows
        self.nans += other.nans
        self.moments.merge(other.moments)
        self.distinct.merge(other.distinct)
        self.quantiles.merge(other.quantiles)
        if self.top is not None and other.top is not None:
            self.top.merge(other.top)
        return self

    def approximations(self) -> list[str]:
        """Which profile statistics are estimates rather than exact."""
        found = []
        if not self.distinct.exact:
            found.append("distinct")
        if self.kind in NUMERIC and not self.quantiles.exact:
            found.append("quantiles")
        if self.top is not None and not self.top.exact:
            found.append("top_values")
        return found

    def histogram(self, edges: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Counts of a numeric column in ``(-inf, e0], (e0, e1], ..., (e_last, inf)``."""
        return self.quantiles.histogram(np.asarray(edges, dtype=np.float64))

    def category_counts(self) -> dict[Any, int]:
        """Counts of each tracked value of a string or boolean column."""
        return dict(self.top.counts) if self.top is not None else {}

    def quantile(self, points: list[float]) -> list[float]:
        """Values at the fractions ``points`` of a numeric column (NaN when empty)."""
        return self.quantiles.quantiles(points)

    def profile(self) -> dict[str, Any]:
        """The column's profile document (the shape of ``shipyard.data.ColumnProfile``)."""
        m = self.moments
        document: dict[str, Any] = {
            "name": self.name,
            "type": self.kind,
            "count": m.count,
            "nulls": m.missing,
            "nans": self.nans,
            "null_fraction": m.missing / self.rows if self.rows else 0.0,
            "distinct": self.distinct.estimate(),
            "min": None,
            "max": None,
            "mean": None,
            "std": None,
            "quantiles": None,
            "top_values": None,
            "min_length": m.min_length,
            "max_length": m.max_length,
        }
        if self.top is not None:
            top = self.top.top(TOP_VALUES)
            document["top_values"] = [{"value": v, "count": c} for v, c in top]
        elif m.count and self.kind in TEMPORAL:
            document["min"], document["max"] = m.min.isoformat(), m.max.isoformat()
        elif m.count:
            variance = m.variance()
            cuts = self.quantiles.quantiles(list(QUANTILES.values()))
            document |= {
                "min": m.min,
                "max": m.max,
                "mean": m.mean,
                "std": None if variance is None else _sqrt(variance),
                "quantiles": dict(zip(QUANTILES, cuts, strict=True)),
            }
        return document

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe data ``from_dict`` reads back to an equal summary."""
        m = self.moments
        return {
            "format": FORMAT,
            "name": self.name,
            "type": self.kind,
            "options": self.options.to_dict(),
            "rows": self.rows,
            "nans": self.nans,
            "count": m.count,
            "missing": m.missing,
            "min": self._encode_value(m.min),
            "max": self._encode_value(m.max),
            "mean": encode_float(m.mean),
            "m2": encode_float(m.m2),
            "min_length": m.min_length,
            "max_length": m.max_length,
            "distinct": self.distinct.to_dict(),
            "quantiles": self.quantiles.to_dict() if self.kind in NUMERIC else None,
            "top": self.top.to_dict() if self.top is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSummary:
        """The summary ``to_dict`` wrote; InvalidInput when the data is not one."""
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"unknown summary format {data.get('format')!r}")
            summary = cls(str(data["name"]), data["type"], SummaryOptions(**data["options"]))
            if summary.kind not in NUMERIC | CATEGORICAL | TEMPORAL:
                raise ValueError(f"unknown column type {summary.kind!r}")
            summary.rows, summary.nans = int(data["rows"]), int(data["nans"])
            summary.moments = Moments(
                count=int(data["count"]),
                missing=int(data["missing"]),
                min=summary._decode_value(data["min"]),
                max=summary._decode_value(data["max"]),
                mean=decode_float(data["mean"]) or 0.0,
                m2=decode_float(data["m2"]) or 0.0,
                min_length=data["min_length"],
                max_length=data["max_length"],
            )
            summary.distinct = DistinctSketch.from_dict(data["distinct"])
            if data["quantiles"] is not None:
                summary.quantiles = QuantileSketch.from_dict(data["quantiles"])
            if summary.top is not None:
                summary.top = TopCounts.from_dict(data["top"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"not a column summary: {exc}", field="summary") from None
        return summary

    @classmethod
    def from_profile(cls, document: dict[str, Any], options: SummaryOptions) -> ColumnSummary:
        """An approximate summary of a column known only by its profile document.

        Reads profiles stored before summaries were kept. Counts, extremes, lengths, mean
        and variance carry over exactly; quantiles, distinct values and top values become
        estimates (from the stored quantiles, distinct count and top ten).
        """
        summary = cls(document["name"], document["type"], options)
        count, missing = int(document["count"]), int(document["nulls"])
        summary.rows, summary.nans = count + missing, int(document.get("nans", 0))
        std = decode_float(document.get("std"))
        summary.moments = Moments(
            count=count,
            missing=missing,
            min=summary._decode_value(document.get("min")),
            max=summary._decode_value(document.get("max")),
            mean=decode_float(document.get("mean")) or 0.0,
            m2=(std or 0.0) ** 2 * max(count - 1, 0),
            min_length=document.get("min_length"),
            max_length=document.get("max_length"),
        )
        if summary.kind in NUMERIC and document.get("quantiles"):
            points = {QUANTILES[k]: float(v) for k, v in document["quantiles"].items()}
            points |= {0.0: float(document["min"]), 1.0: float(document["max"])}
            summary.quantiles = QuantileSketch.from_quantiles(points, count, options.quantile_k)
        if summary.top is not None:
            summary.top.counts = {v["value"]: int(v["count"]) for v in document["top_values"] or []}
            summary.top.exact = len(summary.top.counts) >= int(document["distinct"])
        summary.distinct.floor = int(document["distinct"])
        return summary

    def _encode_value(self, value: Any) -> Any:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, float):
            return encode_float(value)
        return value

    def _decode_value(self, value: Any) -> Any:
        if value is None:
            return None
        if self.kind == "timestamp":
            return datetime.datetime.fromisoformat(value)
        if self.kind == "date":
            return datetime.date.fromisoformat(value)
        if self.kind == "float":
            return float(value)
        return int(value) if self.kind == "integer" else value


def _float_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Float values as float64 with nulls as NaN; zero-copy where Arrow allows."""
    if values.type != pa.float64():
        values = values.cast(pa.float64())
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def _int_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
    target = pa.uint64() if pa.types.is_unsigned_integer(values.type) else pa.int64()
    if values.type != target:
        values = values.cast(target)
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _sqrt(value: float) -> float:
    return math.sqrt(value) if value >= 0 or math.isnan(value) else math.nan
