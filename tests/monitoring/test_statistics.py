"""The drift methods (one contract for every method), their choice, and CBPE."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from shipyard.monitoring._estimate import estimate
from shipyard.monitoring._summary import Current, Reference
from shipyard.monitoring.drift import (
    ChiSquareTest,
    DriftMethod,
    Histogram,
    JensenShannonDistance,
    KSTest,
    NormedWasserstein,
    choose,
)

RNG = np.random.default_rng(11)


def _numeric(reference: np.ndarray, current: np.ndarray) -> tuple[Reference, Current]:
    ref = Reference.numeric(reference)
    cur = Current(ref)
    cur.add(pa.array(current))
    return ref, cur


def _categorical(reference: list[str], current: list[str | None]) -> tuple[Reference, Current]:
    ref = Reference.categorical(pa.array(reference))
    cur = Current(ref)
    cur.add(pa.array(current, pa.string()))
    return ref, cur


NUMERIC: list[DriftMethod] = [KSTest(), NormedWasserstein()]
CATEGORICAL: list[DriftMethod] = [ChiSquareTest(), JensenShannonDistance()]


@pytest.mark.parametrize("method", NUMERIC, ids=lambda m: m.name)
def test_numeric_methods_flag_a_shift_and_not_a_resample(method: DriftMethod) -> None:
    baseline = RNG.normal(size=5000)
    ref, same = _numeric(baseline, RNG.normal(size=5000))
    _, shifted = _numeric(baseline, RNG.normal(loc=0.5, size=5000))
    assert not method.score(ref.histogram, same.histogram()).drifted
    assert method.score(ref.histogram, shifted.histogram()).drifted


@pytest.mark.parametrize("method", CATEGORICAL, ids=lambda m: m.name)
def test_categorical_methods_flag_a_new_mix_and_not_a_resample(method: DriftMethod) -> None:
    values = np.array(["a", "b", "c"])
    baseline = RNG.choice(values, 5000, p=[0.5, 0.3, 0.2]).tolist()
    ref, same = _categorical(baseline, RNG.choice(values, 5000, p=[0.5, 0.3, 0.2]).tolist())
    _, mixed = _categorical(baseline, RNG.choice(values, 5000, p=[0.2, 0.3, 0.5]).tolist())
    assert not method.score(ref.histogram, same.histogram()).drifted
    assert method.score(ref.histogram, mixed.histogram()).drifted


def test_the_normed_wasserstein_distance_agrees_with_scipy() -> None:
    baseline, current = RNG.normal(size=4000), RNG.normal(loc=0.3, scale=1.5, size=3000)
    ref, cur = _numeric(baseline, current)
    exact = stats.wasserstein_distance(baseline, current) / np.std(baseline)
    assert NormedWasserstein().score(ref.histogram, cur.histogram()).value == pytest.approx(
        exact, rel=0.05
    )


def test_a_window_past_the_exact_sketch_counts_within_its_rank_error() -> None:
    baseline, current = RNG.normal(size=20_000), RNG.normal(loc=0.1, scale=1.2, size=400_000)
    ref = Reference.numeric(baseline)
    cur = Current(ref)
    for start in range(0, len(current), 100_000):  # a window read a capture file at a time
        cur.add(pa.array(current[start : start + 100_000]))
    assert not cur.summary.quantiles.exact
    edges = ref.histogram.edges
    assert edges is not None
    at = np.searchsorted(np.sort(current), edges, side="right")
    exact = np.diff(np.concatenate(([0], at, [len(current)])))
    assert np.abs(cur.counts - exact).max() <= 0.005 * len(current)
    sketched = NormedWasserstein().score(ref.histogram, cur.histogram()).value
    counted = NormedWasserstein().score(ref.histogram, Histogram(exact, edges, ref.histogram.scale))
    assert sketched == pytest.approx(counted.value, rel=0.01)


def test_methods_follow_evidentlys_defaults_by_baseline_size() -> None:
    assert isinstance(choose("numeric", 1000), KSTest)
    assert isinstance(choose("numeric", 1001), NormedWasserstein)
    assert isinstance(choose("categorical", 1000), ChiSquareTest)
    assert isinstance(choose("categorical", 1001), JensenShannonDistance)


def test_missing_values_and_unseen_categories_are_counted_apart() -> None:
    _, numbers = _numeric(RNG.normal(size=100), np.array([1.0, np.nan, 2.0, np.nan]))
    assert (numbers.rows, numbers.missing, numbers.present) == (4, 2, 2)
    _, colours = _categorical(["red", "blue"], ["red", "purple", None, "purple"])
    assert (colours.missing, colours.unseen, colours.present) == (1, 2, 3)


def test_cbpe_estimates_the_realized_accuracy_and_auc_of_calibrated_probabilities() -> None:
    positive = 1 / (1 + np.exp(-RNG.normal(scale=2.0, size=20_000)))
    labels = RNG.random(positive.size) < positive  # drawn from the probabilities themselves
    probabilities = np.column_stack([1 - positive, positive])
    result = estimate(probabilities)
    realized = np.mean((positive > 0.5) == labels)
    assert result.refused is None and result.rows == 20_000
    assert result.metrics["accuracy"] == pytest.approx(realized, abs=0.01)
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, positive), abs=0.01)
    assert any("calibrated" in a for a in result.assumptions)


def test_cbpe_refuses_without_probabilities() -> None:
    assert estimate(np.empty((0, 2))).refused is not None
