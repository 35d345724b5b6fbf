"""Column summaries that grow batch by batch: a baseline's bins, and a window's counts on them.

A window is read a capture file at a time; each batch only adds counts, so a day of
traffic never sits in memory whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.monitoring.drift import Histogram

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


@dataclass
class Reference:
    """A baseline column: bins (numeric edges or categories) and its counts on them."""

    kind: str
    rows: int
    histogram: Histogram
    categories: list[str] = field(default_factory=list)

    @classmethod
    def numeric(cls, values: np.ndarray) -> Reference:
        finite = np.sort(values[np.isfinite(values)])
        if len(finite) == 0:
            finite = np.zeros(1)
        quantiles = np.quantile(finite, np.linspace(0, 1, QUANTILE_BINS + 1))
        scale = float(np.std(finite))
        step = (scale or 1.0) * TAIL_STEP
        low = quantiles[0] - step * np.arange(TAIL_STEPS, 0, -1)
        high = quantiles[-1] + step * np.arange(1, TAIL_STEPS + 1)
        edges = np.unique(np.concatenate([low, quantiles, high]))
        counts = bin_counts(finite, edges)
        return cls("numeric", len(finite), Histogram(counts, edges, scale))

    @classmethod
    def categorical(cls, column: pa.Array | pa.ChunkedArray) -> Reference:
        counts = pc.value_counts(category_strings(column).drop_null())
        pairs = sorted(
            zip(
                counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )[:MAX_CATEGORIES]
        values = np.array([c for _, c in pairs] + [0], dtype=np.int64)
        return cls("categorical", int(values.sum()), Histogram(values), [v for v, _ in pairs])


def bin_counts(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted values in (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    at = np.searchsorted(ordered, edges, side="right")
    return np.diff(np.concatenate(([0], at, [len(ordered)]))).astype(np.int64)


@dataclass
class Current:
    """A window's counts for one column, on its reference's bins; missing values apart."""

    reference: Reference
    counts: np.ndarray = field(init=False)
    rows: int = 0
    missing: int = 0

    def __post_init__(self) -> None:
        self.counts = np.zeros_like(self.reference.histogram.counts)

    def add(self, column: pa.Array | pa.ChunkedArray) -> None:
        self.rows += len(column)
        if self.reference.kind == "numeric":
            values = numeric_values(column)
            finite = values[np.isfinite(values)]
            self.missing += len(values) - len(finite)
            edges = self.reference.histogram.edges
            assert edges is not None
            slots = np.searchsorted(edges, finite, side="left")
            self.counts += np.bincount(slots, minlength=len(edges) + 1).astype(np.int64)
            return
        self.missing += column.null_count
        strings = category_strings(column).drop_null()
        index = pc.index_in(strings, value_set=pa.array(self.reference.categories, pa.string()))
        slots = pc.fill_null(index, len(self.reference.categories)).to_numpy(zero_copy_only=False)
        self.counts += np.bincount(slots, minlength=len(self.counts)).astype(np.int64)

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def unseen(self) -> int:
        """Values outside the baseline's categories (categorical columns)."""
        return int(self.counts[-1]) if self.reference.kind == "categorical" else 0

    def histogram(self) -> Histogram:
        return Histogram(self.counts.copy(), self.reference.histogram.edges)

    def bars(self, groups: int = 20) -> list[tuple[str, float, float]]:
        """Shares of baseline and current on at most ``groups`` bins, for a chart."""
        ref = self.reference.histogram.counts
        ref_total, cur_total = max(int(ref.sum()), 1), max(int(self.counts.sum()), 1)
        if self.reference.kind == "categorical":
            labels = [*self.reference.categories, "(unseen)"]
            return [
                (label, int(r) / ref_total, int(c) / cur_total)
                for label, r, c in zip(labels, ref.tolist(), self.counts.tolist(), strict=True)
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
        cur_g = np.bincount(slot, weights=self.counts, minlength=groups)
        return [
            (f"{cuts[i]:.4g}", float(ref_g[i]) / ref_total, float(cur_g[i]) / cur_total)
            for i in range(groups)
            if ref_g[i] or cur_g[i]
        ]
