"""Per-variant totals, and the 10-second windows a worker reports to ``variant_stats``.

Request handling only bumps cumulative counters; the background reporter turns
them into the current window's counts by subtracting the totals it saw when
the window began, so nothing on the request path knows about windows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

LATENCY_BUCKETS = (  # request latency histogram bounds, seconds
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
WINDOW_SECONDS = 10.0
LATENCY_BOUNDS_MS = tuple(round(bound * 1000, 6) for bound in LATENCY_BUCKETS)


@dataclass
class VariantTotals:
    """Cumulative counts of one variant on this worker since it started."""

    requests: int = 0
    errors: int = 0
    latency_sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    shadow_comparisons: int = 0
    shadow_agreements: int = 0
    shadow_abs_diff_sum: float = 0.0

    def add(self, other: VariantTotals) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.latency_sum_ms += other.latency_sum_ms
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.shadow_comparisons += other.shadow_comparisons
        self.shadow_agreements += other.shadow_agreements
        self.shadow_abs_diff_sum += other.shadow_abs_diff_sum

    def minus(self, base: VariantTotals | None) -> VariantTotals:
        if base is None:
            return self
        return VariantTotals(
            self.requests - base.requests,
            self.errors - base.errors,
            self.latency_sum_ms - base.latency_sum_ms,
            [a - b for a, b in zip(self.buckets, base.buckets, strict=True)],
            self.shadow_comparisons - base.shadow_comparisons,
            self.shadow_agreements - base.shadow_agreements,
            self.shadow_abs_diff_sum - base.shadow_abs_diff_sum,
        )

    def observe(self, seconds: float, failed: bool) -> None:
        """Count one request (used by the shadow runner, which owns its totals)."""
        self.requests += 1
        self.errors += failed
        self.latency_sum_ms += seconds * 1000
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1


@dataclass(frozen=True)
class WindowRow:
    """One ``variant_stats`` row: a variant's counts on this worker in one window."""

    variant: str
    window_start: float
    totals: VariantTotals

    def latency_document(self) -> dict[str, Any]:
        """``{"bounds": [ms...], "counts": [...]}``; the last count is above the last bound."""
        document: dict[str, Any] = {
            "bounds": list(LATENCY_BOUNDS_MS),
            "counts": list(self.totals.buckets),
        }
        if self.totals.shadow_comparisons:
            document["shadow_abs_diff_sum"] = self.totals.shadow_abs_diff_sum
        return document


class StatsWindows:
    """Turns cumulative totals into the rows of the current (and just finished) window."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._start: float | None = None
        self._base: dict[str, VariantTotals] = {}

    def rows(self, totals: dict[str, VariantTotals], now: float) -> list[WindowRow]:
        start = math.floor(now / self.window) * self.window
        rows: list[WindowRow] = []
        if self._start is None:
            self._start = start
        elif start != self._start:
            rows += self._rows(self._start, totals)
            self._base = totals
            self._start = start
        return rows + self._rows(self._start, totals)

    def _rows(self, start: float, totals: dict[str, VariantTotals]) -> list[WindowRow]:
        rows = []
        for variant, total in totals.items():
            delta = total.minus(self._base.get(variant))
            if delta.requests or delta.shadow_comparisons:
                rows.append(WindowRow(variant, start, delta))
        return rows
