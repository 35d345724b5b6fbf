"""Uniqueness across parts: sorted runs for numbers and times, value counts for the rest.

Keeps the checked column's distinct values in memory (8 bytes a row for numbers); the other
checks keep a fixed amount per part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._stats import NUMERIC, TEMPORAL
from shipyard.data import ColumnType
from shipyard.schemas.contract_spec import Severity

SHOWN_DUPLICATES = 5
DENSE_SPAN = 4


@dataclass
class Duplicates:
    """Rows whose value occurs more than once, and a few of those values with their counts."""

    rows: int = 0
    values: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)
    value_set: pa.Array | None = None


class UniqueCheck:
    """``unique``: no present value occurs twice."""

    name = "unique"

    def __init__(self, column: str, severity: Severity, kind: ColumnType) -> None:
        self.column, self.severity, self.kind = column, severity, kind
        self.sortable = kind in NUMERIC or kind in TEMPORAL

    def collect(self, present: pa.ChunkedArray, ordered: np.ndarray | None) -> Any:
        """What one part contributes: its values as numbers, or its value counts."""
        if self.sortable:
            if ordered is not None:
                return [ordered]
            return [sortable_numpy(chunk) for chunk in present.chunks if len(chunk)]
        counts = pc.value_counts(present)
        return pa.table({"value": counts.field("values"), "count": counts.field("counts")})

    def conclude(
        self,
        parts: list[Any],
        arrow_type: pa.DataType,
        extremes: tuple[int, int] | None = None,
    ) -> Duplicates:
        """The duplicates among all parts; ``extremes``: the integers' known min and max."""
        if not parts:
            return Duplicates()
        if self.sortable:
            return self._sorted_duplicates(parts, arrow_type, extremes)
        return self._counted_duplicates(parts)

    def _sorted_duplicates(
        self,
        collected: list[list[np.ndarray]],
        arrow_type: pa.DataType,
        extremes: tuple[int, int] | None,
    ) -> Duplicates:
        parts = [p for arrays in collected for p in arrays if len(p)]
        if not parts:
            return Duplicates()
        if parts[0].dtype.kind in "iu":
            if extremes is None:  # one pass fewer over the values when they are known
                extremes = min(int(p.min()) for p in parts), max(int(p.max()) for p in parts)
            low = extremes[0]
            span = extremes[1] - low + 1
            if span <= DENSE_SPAN * sum(len(p) for p in parts):
                return self._dense_duplicates(parts, low, span, arrow_type)
        ordered = np.concatenate(parts) if len(parts) > 1 else parts[0].copy()
        ordered.sort()
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            return Duplicates()
        involved = np.concatenate(([False], same)) | np.concatenate((same, [False]))
        repeated, counts = np.unique(ordered[involved], return_counts=True)
        return self._found(repeated, counts, int(involved.sum()), arrow_type)

    def _dense_duplicates(
        self, parts: list[np.ndarray], low: int, span: int, arrow_type: pa.DataType
    ) -> Duplicates:
        """Integers in a range not much wider than their count: one flag per value.

        A byte per possible value (an eighth of a counter) marks the values seen, part by
        part; the rows whose value was marked before are repeats. That is exact unless a
        value's first part holds it twice, which the total of repeats tells; the few
        repeated values are then counted again, and failing that every value is counted.
        """
        total = sum(len(p) for p in parts)
        seen = np.zeros(span, np.bool_)
        later: list[np.ndarray] = []
        for part in parts:
            slots = part - low if low else part
            again = seen[slots]
            if again.any():
                later.append(part[again])
            seen[slots] = True
        surplus = total - int(np.count_nonzero(seen))
        if surplus == 0:
            return Duplicates()
        repeats = np.concatenate(later) if later else np.empty(0, parts[0].dtype)
        if len(repeats) == surplus:  # each repeated value's first part holds it once
            repeated, counts = np.unique(repeats, return_counts=True)
            counts += 1
            return self._found(repeated, counts, int(counts.sum()), arrow_type)
        if 0 < len(repeats) <= total // 64:
            found = self._recount(parts, low, seen, np.unique(repeats), surplus, arrow_type)
            if found is not None:
                return found
        return self._counted_dense(parts, low, span, arrow_type)

    def _recount(
        self,
        parts: list[np.ndarray],
        low: int,
        seen: np.ndarray,
        candidates: np.ndarray,
        surplus: int,
        arrow_type: pa.DataType,
    ) -> Duplicates | None:
        """Count every row of the repeated values; None if they do not explain the surplus."""
        seen[:] = False
        seen[candidates - low if low else candidates] = True
        rows = [part[seen[part - low if low else part]] for part in parts]
        repeated, counts = np.unique(np.concatenate(rows), return_counts=True)
        if int(counts.sum()) - len(repeated) != surplus:
            return None
        return self._found(repeated, counts, int(counts.sum()), arrow_type)

    def _counted_dense(
        self, parts: list[np.ndarray], low: int, span: int, arrow_type: pa.DataType
    ) -> Duplicates:
        """One counter per value: for values repeated in the part that first holds them."""
        values = np.concatenate(parts) if len(parts) > 1 else parts[0]
        occurrences = np.bincount(values - low if low else values, minlength=span)
        repeated = np.flatnonzero(occurrences > 1)
        if len(repeated) == 0:
            return Duplicates()
        counts = occurrences[repeated]
        return self._found(repeated + low, counts, int(counts.sum()), arrow_type)

    def _found(
        self, repeated: np.ndarray, counts: np.ndarray, rows: int, arrow_type: pa.DataType
    ) -> Duplicates:
        values = pa.array(repeated)
        if pa.types.is_date32(arrow_type):
            values = values.cast(pa.int32())
        value_set = values.cast(arrow_type)
        return Duplicates(
            rows=rows,
            values=len(repeated),
            sample=_sample(self.column, value_set[:SHOWN_DUPLICATES].to_pylist(), counts),
            value_set=value_set,
        )

    def _counted_duplicates(self, parts: list[pa.Table]) -> Duplicates:
        merged = pa.concat_tables(parts).group_by("value").aggregate([("count", "sum")])
        repeated = merged.filter(pc.greater(merged["count_sum"], 1))
        if repeated.num_rows == 0:
            return Duplicates()
        shown = repeated.sort_by([("count_sum", "descending")]).slice(0, SHOWN_DUPLICATES)
        return Duplicates(
            rows=pc.sum(repeated["count_sum"]).as_py(),
            values=repeated.num_rows,
            sample=_sample(self.column, shown["value"].to_pylist(), shown["count_sum"].to_numpy()),
            value_set=repeated["value"].combine_chunks(),
        )


def sortable_numpy(present: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Present numbers, dates or timestamps as a numpy array that sorts like the values.

    Zero-copy for one chunk of numbers without nulls; a chunked array is concatenated.
    """
    if pa.types.is_timestamp(present.type) or pa.types.is_date(present.type):
        present = present.cast(pa.int64() if pa.types.is_timestamp(present.type) else pa.int32())
    return np.asarray(present.to_numpy())


def _sample(column: str, values: list[Any], counts: np.ndarray) -> list[dict[str, Any]]:
    shown = [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
    return [
        {column: value, "occurrences": int(count)}
        for value, count in zip(shown, counts[: len(shown)].tolist(), strict=True)
    ]
