"""A mergeable quantile sketch: KLL compactors over float64, vectorised with numpy.

Level ``h`` holds items of weight ``2**h``. A level over its capacity is sorted and every
other item (from a reproducible coin flip) moves up a level; an odd item stays. Capacities shrink by
2/3 per level below the top, so the sketch holds about ``3 k`` items. Until the first
compaction (``exact_values`` values; at least ``k``) it holds every value and answers
exactly, with linear interpolation.

Error: a reported quantile's true rank is off by about ``2 / k`` of the count at most, with
high probability (KLL's bound is O(1/k); Karnin, Lang and Liberty 2016, and Apache
DataSketches measures 1.65% at 99% confidence for k = 200). Measured by
bench/statistics_summary.py on 10M normal values in 1M-row batches, the largest rank error
over the 1st..99th percentiles was 0.10% with k = 2,048 and 0.25% with k = 512. Histogram
counts from the sketch carry the same error per bin edge.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.statistics._encoding import decode_array, encode_array

Floats = np.ndarray[Any, np.dtype[np.float64]]
_SHRINK = 2.0 / 3.0
_MIN_CAPACITY = 8


class QuantileSketch:
    """Quantiles and histograms of a stream of floats, mergeable with another sketch."""

    def __init__(self, k: int = 2048, exact_values: int = 0) -> None:
        self.k = k
        self.exact_values = max(exact_values, k)
        self.levels: list[Floats] = [np.empty(0)]
        self.count = 0

    @property
    def exact(self) -> bool:
        """True while every value is held with weight one."""
        return len(self.levels) == 1

    def update(self, values: Floats) -> None:
        """Add values (no NaN: the caller leaves missing values out)."""
        if len(values) == 0:
            return
        self.levels[0] = np.concatenate([self.levels[0], values.astype(np.float64, copy=False)])
        self.count += len(values)
        self._compress()

    def merge(self, other: QuantileSketch) -> None:
        """Add every value ``other`` summarises."""
        self.k = min(self.k, other.k)
        self.exact_values = min(self.exact_values, other.exact_values)
        while len(self.levels) < len(other.levels):
            self.levels.append(np.empty(0))
        for h, items in enumerate(other.levels):
            self.levels[h] = np.concatenate([self.levels[h], items])
        self.count += other.count
        self._compress()

    def _capacity(self, h: int) -> int:
        top = len(self.levels) - 1
        capacity = max(_MIN_CAPACITY, math.ceil(self.k * _SHRINK ** (top - h)))
        return max(capacity, self.exact_values) if h == 0 else capacity

    def _compress(self) -> None:
        h = 0
        while h < len(self.levels):
            if len(self.levels[h]) <= self._capacity(h):
                h += 1
                continue
            items = np.sort(self.levels[h])
            odd = len(items) % 2
            start = int(_coin(self.count, h))
            promoted = items[odd + start :: 2]
            self.levels[h] = items[:odd]
            if h + 1 == len(self.levels):
                self.levels.append(np.empty(0))
            self.levels[h + 1] = np.concatenate([self.levels[h + 1], promoted])
            h = 0  # a new top level shrinks every capacity below it

    def weighted(self) -> tuple[Floats, Floats]:
        """The held items in order, with their weights."""
        items = np.concatenate(self.levels)
        weights = np.concatenate(
            [np.full(len(level), float(2**h)) for h, level in enumerate(self.levels)]
        )
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def quantiles(self, points: list[float]) -> list[float]:
        """Values at each fraction in ``points``: exact (linear) while exact, else estimated."""
        if self.count == 0:
            return [math.nan] * len(points)
        with np.errstate(invalid="ignore", over="ignore"):
            if self.exact:  # Arrow's linear interpolation, as numpy's but sound at infinities
                found = pc.quantile(pa.array(self.levels[0]), q=points, interpolation="linear")
                return [float(v) for v in found.to_pylist()]
            items, weights = self.weighted()
            cumulative = np.cumsum(weights)
            total = cumulative[-1]
            # The item whose weight covers rank q * total (ranks counted from zero).
            ranks = np.asarray(points) * (total - 1)
            index = np.searchsorted(cumulative, ranks, side="right")
            return [float(v) for v in items[np.minimum(index, len(items) - 1)]]

    def cdf(self, edges: Floats) -> Floats:
        """Estimated number of values at most each edge."""
        items, weights = self.weighted()
        cumulative = np.concatenate([[0.0], np.cumsum(weights)])
        return cumulative[np.searchsorted(items, edges, side="right")]

    def histogram(self, edges: Floats) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Counts in the bins ``(-inf, e0], (e0, e1], ..., (e_last, inf)``: exact while exact."""
        below = self.cdf(np.asarray(edges, dtype=np.float64))
        counts = np.diff(np.concatenate([[0.0], below, [float(self.count)]]))
        return np.rint(counts).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "exact_values": self.exact_values,
            "count": self.count,
            "levels": [encode_array(level) for level in self.levels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantileSketch:
        sketch = cls(int(data["k"]), int(data["exact_values"]))
        sketch.levels = [decode_array(text, np.float64) for text in data["levels"]] or [np.empty(0)]
        sketch.count = int(data["count"])
        held = sum(len(level) * 2**h for h, level in enumerate(sketch.levels))
        if held != sketch.count:
            raise ValueError(
                f"the quantile sketch holds weight {held}, not its count {sketch.count}"
            )
        return sketch

    @classmethod
    def from_quantiles(cls, points: dict[float, float], count: int, k: int) -> QuantileSketch:
        """An approximate sketch of ``count`` values known only by a few quantiles.

        Converts profiles stored before summaries were kept: ranks between the known points
        are interpolated linearly, and the items are placed at the level whose weight makes
        them stand for ``count`` values.
        """
        sketch = cls(k)
        if count == 0 or not points:
            return sketch
        level = max(0, int(math.log2(max(count // k, 1))))
        size, rest = divmod(count, 2**level)
        fractions = sorted(points)
        ranks = (np.arange(size) + 0.5) / size
        values = np.interp(ranks, fractions, [points[f] for f in fractions])
        sketch.levels = [np.empty(0) for _ in range(level)] + [values]
        # The remainder (fewer than 2**level values) goes in at weight one, at the median.
        median = float(np.interp(0.5, fractions, [points[f] for f in fractions]))
        sketch.levels[0] = np.concatenate([sketch.levels[0], np.full(rest, median)])
        sketch.count = count
        sketch._compress()
        return sketch


def _coin(count: int, level: int) -> int:
    """A fair, reproducible bit for the compaction offset (no RNG state to serialize)."""
    mixed = (count * 0x9E3779B97F4A7C15 + level * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    mixed ^= mixed >> 31
    mixed = (mixed * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (mixed >> 63) & 1
