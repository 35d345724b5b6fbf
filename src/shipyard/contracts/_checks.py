"""The checks a column can have, evaluated part by part with pyarrow.compute and numpy."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._check_base import (
    SAMPLE_ROWS,
    ColumnCheck,
    NotEvaluable,
    Outcome,
    Values,
    first_true,
)
from shipyard.contracts._fixed_pattern import compile_fixed
from shipyard.contracts._fixed_width import MAX_KEY_WIDTH, byte_grid, key_of, keys, text_of
from shipyard.contracts._stats import NUMERIC, TEMPORAL, Moments
from shipyard.data import ColumnType
from shipyard.schemas.contract_spec import (
    AllowedValues,
    Completeness,
    Length,
    Mean,
    Pattern,
    Range,
)


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

    def evaluate(self, values: Values, missing: Values | None, want: bool) -> Outcome:
        """Numbers are compared in numpy, on the Arrow buffers themselves.

        Null slots hold arbitrary numbers: their rows are taken out of the comparison.
        """
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        if self.kind not in NUMERIC:
            return super().evaluate(values, missing, want)
        low, high = (b.as_py() if b is not None else None for b in self.bounds)
        count, positions, offset = 0, [], 0
        for chunk in chunks:
            array = _numbers(chunk)
            outside = np.zeros(len(array), dtype=bool)
            if low is not None:
                outside |= array < low
            if high is not None:
                outside |= array > high
            hits: np.ndarray | None = None
            if chunk.null_count:  # few rows are outside: look up their validity bits only
                hits = np.flatnonzero(outside)
                hits = hits[_valid_at(chunk, hits)]
                found = len(hits)
            else:
                found = int(np.count_nonzero(outside))
            if found and want and count < SAMPLE_ROWS:
                rows = hits if hits is not None else np.flatnonzero(outside)
                positions.append(rows[: SAMPLE_ROWS - count] + offset)
            count += found
            offset += len(array)
        first = np.concatenate(positions)[:SAMPLE_ROWS] if positions else None
        return Outcome(count, first, None)

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
        """Counts per distinct value, chunk by chunk; rows are scanned only for a sample.

        Fixed-width strings (codes) are compared as integers instead of being hashed.
        """
        tally: Counter[str] = Counter()
        positions: list[np.ndarray] = []
        offset = 0
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        for chunk in chunks:
            room = SAMPLE_ROWS - sum(len(p) for p in positions) if want else 0
            found, hits = self._fixed_width(chunk, room)
            if found is None:
                found, hits = self._hashed(chunk, room)
            tally.update(found)
            if hits is not None:
                positions.append(hits + offset)
            offset += len(chunk)
        count = sum(tally.values())
        shown = np.concatenate(positions)[:SAMPLE_ROWS] if positions and count else None
        return Outcome(count, shown, tally or None)

    def _fixed_width(self, chunk: pa.Array, room: int) -> tuple[Counter[str] | None, Any]:
        grid = byte_grid(chunk) if self.kind == "string" else None
        if grid is None or grid.shape[1] > MAX_KEY_WIDTH:
            return None, None
        width = grid.shape[1]
        allowed = [k for v in self.value_set.to_pylist() if (k := key_of(v, width)) is not None]
        codes = keys(grid)
        if width > 1:
            return _unexpected_codes(codes, allowed, width, room)
        table = np.ones(256, dtype=bool)  # one byte: a lookup per row beats sorting bytes
        table[allowed] = False
        failing = table[codes]
        if not failing.any():
            return Counter(), None
        counted = np.bincount(codes[failing], minlength=256)
        found = np.flatnonzero(counted)
        tally = Counter({text_of(int(k), 1): int(counted[k]) for k in found})
        return tally, np.flatnonzero(failing)[:room] if room > 0 else None

    def _hashed(self, chunk: pa.Array, room: int) -> tuple[Counter[str], Any]:
        counts = pc.value_counts(chunk)
        distinct = counts.field("values")
        outside = pc.invert(pc.is_in(distinct, value_set=self.value_set))
        unexpected = counts.filter(pc.and_(outside, pc.is_valid(distinct)))
        if len(unexpected) == 0:
            return Counter(), None
        keys_ = [str(v) for v in unexpected.field("values").to_pylist()]
        tally = Counter(dict(zip(keys_, unexpected.field("counts").to_pylist(), strict=True)))
        if room <= 0:
            return tally, None
        return tally, first_true(self.failing(chunk, chunk.is_null()), room)

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

    def evaluate(self, values: Values, missing: Values | None, want: bool) -> Outcome:
        """A fixed-width pattern finds the failing rows on the bytes, without a row mask."""
        if self.fixed is None or not pa.types.is_string(values.type):
            return super().evaluate(values, missing, want)
        chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
        count, positions, offset = 0, [], 0
        for chunk in chunks:
            rows = self.fixed.failing_rows(chunk)
            if len(rows) and want and count < SAMPLE_ROWS:
                positions.append(rows[: SAMPLE_ROWS - count] + offset)
            count += len(rows)
            offset += len(chunk)
        shown = np.concatenate(positions)[:SAMPLE_ROWS] if positions else None
        return Outcome(count, shown, None)

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


def _unexpected_codes(
    codes: np.ndarray, allowed: list[int], width: int, room: int
) -> tuple[Counter[str], np.ndarray | None]:
    """Count every distinct code once, then judge the few distinct ones.

    Cheaper than a mask over the rows: numpy counts narrow integers quickly, and rows are
    only looked at again for the first ``room`` unexpected ones.
    """
    distinct, counts = np.unique(codes, return_counts=True)
    outside = ~np.isin(distinct, np.array(allowed, dtype=codes.dtype))
    if not outside.any():
        return Counter(), None
    unexpected = distinct[outside]
    tally = Counter(
        {text_of(int(k), width): int(c) for k, c in zip(unexpected, counts[outside], strict=True)}
    )
    return tally, _first_in(codes, unexpected, room) if room > 0 else None


def _first_in(codes: np.ndarray, wanted: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the first ``limit`` codes in ``wanted``, reading growing windows."""
    found: list[np.ndarray] = []
    start, step, total = 0, 4096, 0
    while start < len(codes) and total < limit:
        hits = np.flatnonzero(np.isin(codes[start : start + step], wanted))[: limit - total]
        found.append(hits + start)
        total += len(hits)
        start, step = start + step, step * 4
    return np.concatenate(found) if found else np.empty(0, np.int64)


def _numbers(chunk: pa.Array) -> np.ndarray:
    """A number chunk's values buffer as numpy, null slots included (zero-copy)."""
    if not chunk.null_count:
        return np.asarray(chunk.to_numpy())
    dtype = np.dtype(chunk.type.to_pandas_dtype())
    return np.frombuffer(chunk.buffers()[1], dtype)[chunk.offset : chunk.offset + len(chunk)]


def _valid_at(chunk: pa.Array, rows: np.ndarray) -> np.ndarray:
    """Whether each of these rows of a chunk with nulls holds a value, from its bitmap."""
    bits = np.frombuffer(chunk.buffers()[0], np.uint8)
    at = rows + chunk.offset
    return np.asarray((bits[at >> 3] >> (at & 7)) & 1, dtype=bool)


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
