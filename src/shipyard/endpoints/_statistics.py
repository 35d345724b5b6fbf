"""The statistics behind A/B results: latency quantiles, intervals and significance tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


def histogram_quantile(buckets: Sequence[tuple[float, int]], q: float) -> float | None:
    """The ``q`` quantile from ``(upper bound, count)`` buckets; None when they are empty.

    Interpolates linearly inside the bucket the rank falls in (as Prometheus does);
    a rank in the overflow bucket (upper bound +inf) answers the highest finite bound.
    """
    ordered = sorted(buckets)
    total = sum(count for _, count in ordered)
    if total == 0:
        return None
    rank = q * total
    cumulative, lower = 0, 0.0
    for upper, count in ordered:
        if count > 0 and cumulative + count >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - cumulative) / count
        cumulative += count
        lower = upper
    return lower


def _z(confidence: float) -> float:
    return _NORMAL.inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (good near 0 and 1 and for small n)."""
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, center - half), min(1.0, center + half))


@dataclass(frozen=True)
class Difference:
    """A difference (a - b), its interval, and the two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float


def two_proportion_z_test(
    successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95
) -> Difference:
    """Pooled two-proportion z-test of p_a - p_b, with the unpooled (Wald) interval."""
    p_a, p_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    difference = p_a - p_b
    if se_pooled == 0:
        p_value = 1.0 if difference == 0 else 0.0
    else:
        p_value = 2 * _NORMAL.cdf(-abs(difference) / se_pooled)
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    z = _z(confidence)
    return Difference(difference, difference - z * se, difference + z * se, p_value)


def rmse(errors: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(errors))))


def _bootstrap_rmse(errors: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    squared = np.square(errors)
    picks = rng.integers(0, len(squared), size=(resamples, len(squared)))
    result: np.ndarray = np.sqrt(squared[picks].mean(axis=1))
    return result


def bootstrap_rmse_interval(
    errors: np.ndarray, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the root mean squared error."""
    samples = _bootstrap_rmse(errors, resamples, np.random.default_rng(seed))
    tail = (1 - confidence) / 2
    return (float(np.quantile(samples, tail)), float(np.quantile(samples, 1 - tail)))


def bootstrap_rmse_difference(
    errors_a: np.ndarray,
    errors_b: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Difference:
    """RMSE_a - RMSE_b with a percentile bootstrap interval and a bootstrap p-value."""
    rng = np.random.default_rng(seed)
    differences = _bootstrap_rmse(errors_a, resamples, rng) - _bootstrap_rmse(
        errors_b, resamples, rng
    )
    tail = (1 - confidence) / 2
    below = float(np.mean(differences <= 0))
    above = float(np.mean(differences >= 0))
    return Difference(
        rmse(errors_a) - rmse(errors_b),
        float(np.quantile(differences, tail)),
        float(np.quantile(differences, 1 - tail)),
        min(1.0, 2 * min(below, above)),
    )


def probability_best(
    successes: Sequence[int], failures: Sequence[int], draws: int, rng: np.random.Generator
) -> list[float]:
    """Thompson sampling: how often each arm's Beta(1+s, 1+f) draw is the largest."""
    samples = np.column_stack(
        [rng.beta(1 + s, 1 + f, size=draws) for s, f in zip(successes, failures, strict=True)]
    )
    winners = np.bincount(samples.argmax(axis=1), minlength=len(successes))
    return [float(w) / draws for w in winners]
