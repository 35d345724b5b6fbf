"""Counts of the values of a categorical column, capped in size."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


class TopCounts:
    """Exact counts of each value while at most ``cap`` distinct values have been seen.

    Past the cap, each batch contributes only its ``cap`` most frequent values and the
    tracked values are pruned to the ``cap // 2`` most frequent whenever they pass ``cap``:
    ``exact`` becomes False, a kept value's count may miss rows seen while it was not
    tracked (an undercount, never an overcount), and a value seen rarely may be missing.
    Values more frequent than about ``2 / cap`` of the rows stay tracked.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: dict[Any, int] = {}
        self.exact = True

    def update(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Count non-null values; returns the batch's distinct values (for other sketches)."""
        counted = pc.value_counts(values)
        uniques = counted.field("values")
        ranked = pa.table({"value": uniques, "count": counted.field("counts")})
        if len(ranked) > self.cap:
            self.exact = False
            ranked = ranked.take(pc.select_k_unstable(ranked, self.cap, [("count", "descending")]))
        self._add(ranked.column("value").to_pylist(), ranked.column("count").to_pylist())
        return uniques

    def merge(self, other: TopCounts) -> None:
        self.cap = min(self.cap, other.cap)
        self.exact = self.exact and other.exact
        self._add(list(other.counts), list(other.counts.values()))

    def _add(self, values: list[Any], counts: list[int]) -> None:
        for value, count in zip(values, counts, strict=True):
            self.counts[value] = self.counts.get(value, 0) + count
        if len(self.counts) > self.cap:
            self.exact = False
            kept = sorted(self.counts.items(), key=lambda item: -item[1])
            self.counts = dict(kept[: self.cap // 2])

    def top(self, n: int) -> list[tuple[Any, int]]:
        """The ``n`` most frequent values, ties by value."""
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "cap": self.cap,
            "exact": self.exact,
            "counts": [[v, c] for v, c in self.top(len(self.counts))],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TopCounts:
        top = cls(int(data["cap"]))
        top.exact = bool(data["exact"])
        top.counts = {value: int(count) for value, count in data["counts"]}
        return top
