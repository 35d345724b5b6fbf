"""Monitor columns on the shared column summary: a baseline's bins, a window's counts on them.

Both sides are ``shipyard.statistics.ColumnSummary`` objects (``PROFILE`` sketch sizes). The
baseline's summary gives the bin edges (its percentiles, exact up to 100,000 rows), the
standard deviation that widens the tails and scales distances, and its counts on the
edges; categorical baselines give their most frequent values. A window's summary grows a
capture file at a time (``update``), so a day of traffic never sits in memory whole, and
gives its counts on the baseline's edges (``histogram``): exact up to 100,000 values, then
from the KLL sketch, each edge's rank off by about 0.1% of the window's rows at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.data import ColumnType
from shipyard.monitoring.drift import Histogram
from shipyard.statistics import PROFILE, ColumnSummary

QUANTILE_BINS = 100
TAIL_STEPS = 20
TAIL_STEP = 0.5
MAX_CATEGORIES = 200


def numeric_values(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Float values with nulls as NaN (booleans as 0/1, timestamps as epoch seconds)."""
    if pa.types.is_timestamp(column.type):
        column = pc.divide(pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64()), 1e6)
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def category_strings(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def summarize(kind: str, column: pa.Array | pa.ChunkedArray) -> ColumnSummary:
    """A fresh summary of one batch of a monitored column (``numeric`` or ``categorical``)."""
    summary = ColumnSummary("value", _summary_kind(kind), PROFILE)
    return summary.update(_conformed(kind, column))


def _summary_kind(kind: str) -> ColumnType:
    return "float" if kind == "numeric" else "string"


def _conformed(kind: str, column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if kind == "numeric":  # infinities count as missing, as NaN and nulls do
        values = numeric_values(column)
        infinite = np.isinf(values)
        if infinite.any():
            values = np.where(infinite, np.nan, values)
        return pa.array(values, pa.float64())
    return category_strings(column)


@dataclass
class Reference:
    """A baseline column: bins (numeric edges or categories) and its counts on them."""

    kind: str
    rows: int
    histogram: Histogram
    categories: list[str] = field(default_factory=list)

    @classmethod
    def numeric(cls, values: np.ndarray) -> Reference:
        return cls.of_summary(summarize("numeric", pa.array(values, pa.float64())))

    @classmethod
    def categorical(cls, column: pa.Array | pa.ChunkedArray) -> Reference:
        return cls.of_summary(summarize("categorical", column))

    @classmethod
    def of_summary(cls, summary: ColumnSummary) -> Reference:
        """Bins from a baseline's summary: numeric edges at its percentiles with tails of
        half-standard-deviation steps either side, or its most frequent categories."""
        if summary.kind == "string":
            pairs = sorted(summary.category_counts().items(), key=lambda p: (-p[1], p[0]))
            kept = pairs[:MAX_CATEGORIES]
            counts = np.array([c for _, c in kept] + [0], dtype=np.int64)
            return cls("categorical", int(counts.sum()), Histogram(counts), [v for v, _ in kept])
        if summary.count == 0:
            summary = ColumnSummary("value", "float", PROFILE).update(pa.array([0.0]))
        quantiles = np.asarray(summary.quantile(np.linspace(0, 1, QUANTILE_BINS + 1).tolist()))
        scale = float(np.sqrt(summary.moments.variance(ddof=0) or 0.0))
        step = (scale or 1.0) * TAIL_STEP
        low = quantiles[0] - step * np.arange(TAIL_STEPS, 0, -1)
        high = quantiles[-1] + step * np.arange(1, TAIL_STEPS + 1)
        edges = np.unique(np.concatenate([low, quantiles, high]))
        return cls("numeric", summary.count, Histogram(summary.histogram(edges), edges, scale))


@dataclass
class Current:
    """A window's summary of one column, counted on its reference's bins; missing apart."""

    reference: Reference
    summary: ColumnSummary = field(init=False)

    def __post_init__(self) -> None:
        self.summary = ColumnSummary("value", _summary_kind(self.reference.kind), PROFILE)

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        self.summary.update(_conformed(self.reference.kind, column))

    @property
    def rows(self) -> int:
        return self.summary.rows

    @property
    def missing(self) -> int:
        return self.summary.nulls

    @property
    def present(self) -> int:
        return self.summary.count

    @property
    def counts(self) -> np.ndarray:
        """Counts on the reference's bins (categorical: its categories, then all others)."""
        if self.reference.kind == "numeric":
            edges = self.reference.histogram.edges
            assert edges is not None
            return self.summary.histogram(edges)
        seen = self.summary.category_counts()
        known = [seen.get(value, 0) for value in self.reference.categories]
        return np.asarray([*known, self.summary.count - sum(known)], dtype=np.int64)

    @property
    def unseen(self) -> int:
        """Values outside the baseline's categories (categorical columns)."""
        return int(self.counts[-1]) if self.reference.kind == "categorical" else 0

    def histogram(self) -> Histogram:
        return Histogram(self.counts, self.reference.histogram.edges)

    def bars(self, groups: int = 20) -> list[tuple[str, float, float]]:
        """Shares of baseline and current on at most ``groups`` bins, for a chart."""
        ref, counts = self.reference.histogram.counts, self.counts
        ref_total, cur_total = max(int(ref.sum()), 1), max(int(counts.sum()), 1)
        if self.reference.kind == "categorical":
            labels = [*self.reference.categories, "(unseen)"]
            return [
                (label, int(r) / ref_total, int(c) / cur_total)
                for label, r, c in zip(labels, ref.tolist(), counts.tolist(), strict=True)
                if r or c
            ][: groups + 1]
        edges = self.reference.histogram.edges
        assert edges is not None
        low = edges[min(TAIL_STEPS, len(edges) - 1)]
        high = edges[max(len(edges) - 1 - TAIL_STEPS, 0)]
        cuts = np.linspace(low, high, groups + 1)
        upper = np.concatenate((edges, [edges[-1]]))
        slot = np.clip(np.searchsorted(cuts, upper, "left") - 1, 0, groups - 1)
        ref_g = np.bincount(slot, weights=ref, minlength=groups)
        cur_g = np.bincount(slot, weights=counts, minlength=groups)
        return [
            (f"{cuts[i]:.4g}", float(ref_g[i]) / ref_total, float(cur_g[i]) / cur_total)
            for i in range(groups)
            if ref_g[i] or cur_g[i]
        ]
