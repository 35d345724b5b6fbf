"""Row-level and aggregate checks on one column, evaluated with pyarrow.compute part by part."""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._fixed_pattern import compile_fixed
from shipyard.contracts._model import (
    AllowedValues,
    Check,
    Completeness,
    Length,
    Mean,
    Pattern,
    Range,
    Severity,
)
from shipyard.contracts._stats import NUMERIC, TEMPORAL, Moments
from shipyard.data import ColumnType

ANY_TYPE: frozenset[ColumnType] = frozenset(
    {"integer", "float", "string", "boolean", "timestamp", "date"}
)
Values = Any
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Outcome:
    """What one row-level check found in one part."""

    failing: int
    positions: np.ndarray | None
    gathered: Any


def first_true(mask: Values, limit: int) -> np.ndarray:
    """Positions of the first ``limit`` true values, reading as few chunks as needed."""
    chunks = mask.chunks if isinstance(mask, pa.ChunkedArray) else [mask]
    found: list[np.ndarray] = []
    offset = total = 0
    for chunk in chunks:
        hits = np.flatnonzero(chunk.to_numpy(zero_copy_only=False))[: limit - total] + offset
        found.append(hits)
        total += len(hits)
        offset += len(chunk)
        if total >= limit:
            break
    return np.concatenate(found) if found else np.empty(0, np.int64)


class NotEvaluable(Exception):
    """A check cannot run on this column (wrong type, bounds of the wrong kind)."""


class ColumnCheck(ABC):
    """One check of a contract bound to one column of known type."""

    name: ClassVar[str]
    types: ClassVar[frozenset[ColumnType]] = ANY_TYPE
    row_level: ClassVar[bool] = True
    needs_missing: ClassVar[bool] = False
    """Whether only missing values can fail it (so a part without any passes at once)."""

    def __init__(
        self,
        column: str,
        spec: Check,
        severity: Severity,
        kind: ColumnType,
        arrow_type: pa.DataType | None = None,
    ) -> None:
        self.column, self.spec, self.severity, self.kind = column, spec, severity, kind
        if kind not in self.types:
            wanted = " or ".join(sorted(self.types))
            raise NotEvaluable(f"{self.name} needs a {wanted} column; {column!r} is {kind}")
        self.prepare(arrow_type)

    def prepare(self, arrow_type: pa.DataType | None) -> None:
        """Convert the check's parameters to the column's type; NotEvaluable if they do not fit."""
        return None

    @abstractmethod
    def expected(self) -> Any: ...

    def failing(self, values: Values, missing: Values | None) -> Values:
        """Which rows fail, as a boolean array without nulls; ``missing`` None: none is."""
        raise NotImplementedError

    def evaluate(self, values: Values, missing: Values | None, want: bool) -> Outcome:
        """The failing rows of one part: how many, where the first few are, and extras."""
        mask = self.failing(values, missing)
        count = pc.sum(mask).as_py() or 0
        positions = first_true(mask, SAMPLE_ROWS) if count and want else None
        return Outcome(count, positions, self.gather(values, mask if count else None))

    def gather(self, values: Values, failing: Values | None) -> Any:
        """What the verdict needs beyond counts, from one part."""
        return None

    def combine(self, first: Any, second: Any) -> Any:
        return first if second is None else second

    @abstractmethod
    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        """Whether the check passed, and the observed value to report."""


class NotNullCheck(ColumnCheck):
    name = "not_null"
    needs_missing = True

    def expected(self) -> Any:
        return {"missing": 0}

    def failing(self, values: Values, missing: Values | None) -> Values:
        return missing

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        return failing == 0, {"missing": failing}


class CompletenessCheck(ColumnCheck):
    name = "completeness"
    needs_missing = True

    def expected(self) -> Any:
        assert isinstance(self.spec, Completeness)
        return {"min_share": self.spec.min}

    def failing(self, values: Values, missing: Values | None) -> Values:
        return missing

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        assert isinstance(self.spec, Completeness)
        share = 1.0 - failing / rows if rows else 1.0
        return share >= self.spec.min, {"share": round(share, 6)}


class RangeCheck(ColumnCheck):
    name = "range"
    types = NUMERIC | TEMPORAL

    def prepare(self, arrow_type: pa.DataType | None) -> None:
        assert isinstance(self.spec, Range)
        self.bounds = [_bound(b, self.kind, arrow_type) for b in (self.spec.min, self.spec.max)]

    def expected(self) -> Any:
        assert isinstance(self.spec, Range)
        return {"min": self.spec.min, "max": self.spec.max}

    def failing(self, values: Values, missing: Values | None) -> Values:
        low, high = self.bounds
        outside = [pc.less(values, low)] if low is not None else []
        outside += [pc.greater(values, high)] if high is not None else []
        mask = outside[0] if len(outside) == 1 else pc.or_(*outside)
        return pc.fill_null(mask, False)

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        return failing == 0, {"min": _shown(moments.min), "max": _shown(moments.max)}


class LengthCheck(ColumnCheck):
    name = "length"
    types = frozenset({"string"})

    def expected(self) -> Any:
        assert isinstance(self.spec, Length)
        return {"min": self.spec.min, "max": self.spec.max}

    def failing(self, values: Values, missing: Values | None) -> Values:
        assert isinstance(self.spec, Length)
        lengths = pc.utf8_length(values)
        outside = []
        if self.spec.min is not None:
            outside.append(pc.less(lengths, self.spec.min))
        if self.spec.max is not None:
            outside.append(pc.greater(lengths, self.spec.max))
        mask = outside[0] if len(outside) == 1 else pc.or_(*outside)
        return pc.fill_null(mask, False)

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        return failing == 0, {"min": moments.min_length, "max": moments.max_length}


class AllowedValuesCheck(ColumnCheck):
    name = "allowed_values"
    types = frozenset({"string", "integer", "boolean"})
    shown_unexpected = 10

    def prepare(self, arrow_type: pa.DataType | None) -> None:
        assert isinstance(self.spec, AllowedValues)
        values = self.spec.values
        if self.kind == "string":
            self.value_set = pa.array(
                [str(v).lower() if isinstance(v, bool) else str(v) for v in values], pa.string()
            )
        elif self.kind == "integer" and all(_is_int(v) for v in values):
            self.value_set = pa.array(values, arrow_type or pa.int64())
        elif self.kind == "boolean" and all(isinstance(v, bool) for v in values):
            self.value_set = pa.array(values, pa.bool_())
        else:
            raise NotEvaluable(f"allowed values {values[:5]} are not all {self.kind} values")

    def expected(self) -> Any:
        assert isinstance(self.spec, AllowedValues)
        return {"values": self.spec.values}

    def failing(self, values: Values, missing: Values | None) -> Values:
        outside = pc.invert(pc.is_in(values, value_set=self.value_set))
        return outside if missing is None else pc.and_not(outside, missing)

    def evaluate(self, values: Values, missing: Values | None, want: bool) -> Outcome:
        """Counts per distinct value first: rows are scanned only to find a few failing ones."""
        counts = pc.value_counts(values)
        distinct = counts.field("values")
        unexpected = pc.and_(
            pc.invert(pc.is_in(distinct, value_set=self.value_set)), pc.is_valid(distinct)
        )
        if not pc.any(unexpected).as_py():
            return Outcome(0, None, None)
        found = counts.filter(unexpected)
        keys = [str(v) for v in found.field("values").to_pylist()]
        tally = Counter(dict(zip(keys, found.field("counts").to_pylist(), strict=True)))
        positions = None
        if want:
            chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
            positions, offset = np.empty(0, np.int64), 0
            for chunk in chunks:
                hits = first_true(self.failing(chunk, chunk.is_null()), SAMPLE_ROWS) + offset
                positions = np.concatenate([positions, hits])[:SAMPLE_ROWS]
                offset += len(chunk)
                if len(positions) >= SAMPLE_ROWS:
                    break
        return Outcome(sum(tally.values()), positions, tally)

    def combine(self, first: Any, second: Any) -> Any:
        if first is None or second is None:
            return first if second is None else second
        return first + second

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        unexpected = dict(gathered.most_common(self.shown_unexpected)) if gathered else {}
        return failing == 0, {"unexpected": unexpected}


class PatternCheck(ColumnCheck):
    name = "pattern"
    types = frozenset({"string"})

    def expected(self) -> Any:
        assert isinstance(self.spec, Pattern)
        return {"regex": self.spec.regex}

    def prepare(self, arrow_type: pa.DataType | None) -> None:
        assert isinstance(self.spec, Pattern)
        self.fixed = compile_fixed(self.spec.regex)

    def failing(self, values: Values, missing: Values | None) -> Values:
        assert isinstance(self.spec, Pattern)
        if self.fixed is not None and pa.types.is_string(values.type):
            return self.fixed.failing(values)
        return pc.fill_null(pc.invert(pc.match_substring_regex(values, self.spec.regex)), False)

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        share = 1.0 - failing / moments.count if moments.count else 1.0
        return failing == 0, {"matching_share": round(share, 6)}


class MeanCheck(ColumnCheck):
    name = "mean"
    types = NUMERIC
    row_level = False

    def expected(self) -> Any:
        assert isinstance(self.spec, Mean)
        return {"min": self.spec.min, "max": self.spec.max}

    def verdict(self, failing: int, rows: int, moments: Moments, gathered: Any) -> tuple[bool, Any]:
        assert isinstance(self.spec, Mean)
        if moments.count == 0:
            return False, {"mean": None}
        low, high = self.spec.min, self.spec.max
        inside = (low is None or moments.mean >= low) and (high is None or moments.mean <= high)
        return inside, {"mean": moments.mean}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bound(value: object, kind: ColumnType, arrow_type: pa.DataType | None) -> pa.Scalar | None:
    if value is None:
        return None
    if kind in NUMERIC:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise NotEvaluable(f"bound {value!r} is not a number")
        return pa.scalar(value)
    if not isinstance(value, str):
        raise NotEvaluable(f"bound {value!r} of a {kind} column must be an ISO 8601 text")
    try:
        if kind == "date":
            return pa.scalar(datetime.date.fromisoformat(value), pa.date32())
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise NotEvaluable(f"bound {value!r} is not an ISO 8601 {kind}") from None
    if arrow_type is None:
        return None
    zone = getattr(arrow_type, "tz", None)
    if zone is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    elif zone is None and moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return pa.scalar(moment, arrow_type)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


ROW_CHECKS: dict[str, type[ColumnCheck]] = {
    "not_null": NotNullCheck,
    "completeness": CompletenessCheck,
    "range": RangeCheck,
    "length": LengthCheck,
    "allowed_values": AllowedValuesCheck,
    "pattern": PatternCheck,
    "mean": MeanCheck,
}
