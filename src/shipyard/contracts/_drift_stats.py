"""Drift statistics over two histograms on the same bins: a reference and the current data.

Each statistic takes count vectors (not samples), so a contract carries a bounded reference.
scipy loads on first use, so importing Shipyard stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Counts = NDArray[np.int64]
PSI_FLOOR = 1e-4


@dataclass(frozen=True)
class Measure:
    value: float
    p_value: float | None = None


class DriftStatistic(Protocol):
    """A distance or test between a reference histogram and a current one."""

    name: str

    def measure(self, reference: Counts, current: Counts) -> Measure: ...


class PopulationStability:
    """PSI over at most ``bins`` ordered groups of about equal reference mass.

    Shares are floored at 1e-4 so an empty bin costs a finite amount.
    """

    name = "psi"

    def __init__(self, bins: int = 10) -> None:
        self.bins = bins

    def measure(self, reference: Counts, current: Counts) -> Measure:
        ref, cur = merge_bins(reference, current, self.bins)
        expected = np.maximum(ref / ref.sum(), PSI_FLOOR)
        actual = np.maximum(cur / cur.sum(), PSI_FLOOR)
        return Measure(float(np.sum((actual - expected) * np.log(actual / expected))))


class KolmogorovSmirnov:
    """The two-sample KS statistic on the bin edges, with scipy's asymptotic p-value.

    The CDFs are compared at the reference's quantile edges, so the statistic is a lower
    bound of the exact one, off by at most the largest reference bin's share.
    """

    name = "ks"

    def measure(self, reference: Counts, current: Counts) -> Measure:
        n, m = int(reference.sum()), int(current.sum())
        gap = np.abs(np.cumsum(reference) / n - np.cumsum(current) / m)
        statistic = float(gap.max())
        from scipy import stats

        effective = round(n * m / (n + m))
        return Measure(statistic, float(stats.kstwo.sf(statistic, max(effective, 1))))


class JensenShannon:
    """The Jensen-Shannon distance (base 2, so within [0, 1]) between the two shares."""

    name = "js"

    def measure(self, reference: Counts, current: Counts) -> Measure:
        from scipy.spatial import distance

        value = distance.jensenshannon(reference / reference.sum(), current / current.sum(), 2.0)
        return Measure(float(value))


class ChiSquare:
    """Pearson's chi-square test of homogeneity on the 2 x k table of both histograms."""

    name = "chi2"

    def measure(self, reference: Counts, current: Counts) -> Measure:
        keep = (reference + current) > 0
        table = np.vstack([reference[keep], current[keep]])
        if table.shape[1] < 2:
            return Measure(0.0, 1.0)
        from scipy import stats

        result = stats.chi2_contingency(table, correction=False)
        return Measure(float(result.statistic), float(result.pvalue))


NUMERIC_STATISTICS: tuple[DriftStatistic, ...] = (PopulationStability(), KolmogorovSmirnov())
CATEGORICAL_STATISTICS: tuple[DriftStatistic, ...] = (JensenShannon(), ChiSquare())


def merge_bins(reference: Counts, current: Counts, groups: int) -> tuple[Counts, Counts]:
    """Merge neighbouring bins into at most ``groups`` of about equal reference mass."""
    total = reference.sum()
    middle = (np.cumsum(reference) - reference / 2) / total
    index = np.minimum((middle * groups).astype(np.int64), groups - 1)
    return (
        np.bincount(index, weights=reference, minlength=groups).astype(np.int64),
        np.bincount(index, weights=current, minlength=groups).astype(np.int64),
    )
