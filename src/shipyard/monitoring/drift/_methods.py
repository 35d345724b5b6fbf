"""The four default statistics (Evidently's defaults): a test on small baselines, a
distance on large ones, for numeric and categorical columns."""

from __future__ import annotations

import numpy as np

from shipyard.contracts._drift_stats import ChiSquare, KolmogorovSmirnov
from shipyard.monitoring.drift._base import SMALL_SAMPLE, DriftMethod, Histogram, Score


class KSTest:
    """Two-sample Kolmogorov-Smirnov test on the baseline's quantile bins; drift at p < 0.05."""

    name = "ks"
    threshold = 0.05
    rule = "Kolmogorov-Smirnov p-value < 0.05"

    def score(self, reference: Histogram, current: Histogram) -> Score:
        p_value = KolmogorovSmirnov().measure(reference.counts, current.counts).p_value
        value = 1.0 if p_value is None else p_value
        return Score(value, value < self.threshold)


class NormedWasserstein:
    """Wasserstein-1 distance divided by the baseline's standard deviation; drift at > 0.1.

    Computed from the two CDFs at the bin edges (the baseline's quantiles, extended by
    half-deviation steps to 10 deviations either side), each taken as linear within a bin,
    so its error is bounded by the bin widths.
    """

    name = "wasserstein"
    threshold = 0.1
    rule = "normed Wasserstein distance > 0.1"

    def score(self, reference: Histogram, current: Histogram) -> Score:
        edges = reference.edges
        assert edges is not None
        ref = np.cumsum(reference.counts)[:-1] / max(int(reference.counts.sum()), 1)
        cur = np.cumsum(current.counts)[:-1] / max(int(current.counts.sum()), 1)
        distance = _area_between(ref - cur, np.diff(edges))
        value = distance / reference.scale if reference.scale > 0 else distance
        return Score(value, value > self.threshold)


def _area_between(gaps: np.ndarray, widths: np.ndarray) -> float:
    """The integral of |F_ref - F_cur| with the gap linear between neighbouring edges."""
    a, b = np.abs(gaps[:-1]), np.abs(gaps[1:])
    crossing = np.sign(gaps[:-1]) * np.sign(gaps[1:]) < 0
    total = np.where(
        crossing,
        (a**2 + b**2) / (2 * np.maximum(a + b, 1e-300)),
        (a + b) / 2,
    )
    return float(np.sum(total * widths))


class ChiSquareTest:
    """Pearson's chi-square test of homogeneity over the categories; drift at p < 0.05."""

    name = "chisquare"
    threshold = 0.05
    rule = "chi-square p-value < 0.05"

    def score(self, reference: Histogram, current: Histogram) -> Score:
        p_value = ChiSquare().measure(reference.counts, current.counts).p_value
        value = 1.0 if p_value is None else p_value
        return Score(value, value < self.threshold)


class JensenShannonDistance:
    """Jensen-Shannon distance (natural log, as Evidently) of the shares; drift at > 0.1."""

    name = "jensenshannon"
    threshold = 0.1
    rule = "Jensen-Shannon distance > 0.1"

    def score(self, reference: Histogram, current: Histogram) -> Score:
        from scipy.spatial import distance

        ref = reference.counts / max(int(reference.counts.sum()), 1)
        cur = current.counts / max(int(current.counts.sum()), 1)
        value = float(distance.jensenshannon(ref, cur))
        value = 0.0 if not np.isfinite(value) else value
        return Score(value, value > self.threshold)


def choose(kind: str, reference_rows: int) -> DriftMethod:
    """The default method for a column of ``kind`` over a baseline of ``reference_rows``."""
    small = reference_rows <= SMALL_SAMPLE
    if kind == "numeric":
        return KSTest() if small else NormedWasserstein()
    return ChiSquareTest() if small else JensenShannonDistance()


def describe_methods() -> dict[str, str]:
    return {
        "numeric": f"baseline <= {SMALL_SAMPLE} rows: {KSTest.rule}; larger: "
        f"{NormedWasserstein.rule}",
        "categorical": f"baseline <= {SMALL_SAMPLE} rows: {ChiSquareTest.rule}; larger: "
        f"{JensenShannonDistance.rule}",
        "dataset": "dataset drift when the share of drifted features >= 0.5",
    }
