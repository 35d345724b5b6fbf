"""Metrics agree with scikit-learn on the same predictions; bootstrap intervals are seeded,
hold the point estimate, and stay within memory for any number of rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.preprocessing import label_binarize

from shipyard.evaluation._metrics import ClassificationScores, RegressionScores, bootstrap


def _classification(k: int, rows: int = 600, seed: int = 1) -> ClassificationScores:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, rows)
    logits = rng.normal(size=(rows, k)) + 1.5 * np.eye(k)[y]
    logits[:50] = np.round(logits[:50])  # ties in the scores
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return ClassificationScores(y, probs.argmax(axis=1), probs, k)


def _point(scores: ClassificationScores | RegressionScores) -> dict[str, float]:
    return {k: float(v[0]) for k, v in scores.metric_fn()(np.ones((1, len(scores.y_true)))).items()}


def test_binary_metrics_match_scikit_learn() -> None:
    s = _classification(2)
    assert s.probabilities is not None
    got = _point(s)
    expected = {
        "accuracy": sk.accuracy_score(s.y_true, s.y_pred),
        "precision": sk.precision_score(s.y_true, s.y_pred),
        "recall": sk.recall_score(s.y_true, s.y_pred),
        "f1": sk.f1_score(s.y_true, s.y_pred),
        "auc": sk.roc_auc_score(s.y_true, s.probabilities[:, 1]),
        "average_precision": sk.average_precision_score(s.y_true, s.probabilities[:, 1]),
        "log_loss": sk.log_loss(s.y_true, s.probabilities),
    }
    assert got == pytest.approx(expected, rel=1e-9)


def test_multiclass_metrics_are_macro_one_vs_rest_as_in_scikit_learn() -> None:
    s = _classification(4)
    assert s.probabilities is not None
    onehot = label_binarize(s.y_true, classes=range(4))
    expected = {
        "accuracy": sk.accuracy_score(s.y_true, s.y_pred),
        "precision": sk.precision_score(s.y_true, s.y_pred, average="macro"),
        "recall": sk.recall_score(s.y_true, s.y_pred, average="macro"),
        "f1": sk.f1_score(s.y_true, s.y_pred, average="macro"),
        "auc": sk.roc_auc_score(s.y_true, s.probabilities, multi_class="ovr"),
        "average_precision": sk.average_precision_score(onehot, s.probabilities),
        "log_loss": sk.log_loss(s.y_true, s.probabilities),
    }
    assert _point(s) == pytest.approx(expected, rel=1e-9)


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(10, 3, 500)
    pred = y + rng.normal(0, 1, 500)
    expected = {
        "rmse": np.sqrt(sk.mean_squared_error(y, pred)),
        "mse": sk.mean_squared_error(y, pred),
        "mae": sk.mean_absolute_error(y, pred),
        "r2": sk.r2_score(y, pred),
        "max_error": sk.max_error(y, pred),
        "mape": sk.mean_absolute_percentage_error(y, pred),
    }
    assert _point(RegressionScores(y, pred)) == pytest.approx(expected, rel=1e-9)


def test_bootstrap_weights_are_resamples_scikit_learn_agrees_with() -> None:
    """A resample is a weighting; the weighted metric equals the metric on repeated rows."""
    s = _classification(2, rows=200)
    assert s.probabilities is not None
    weights = np.random.default_rng(3).poisson(1.0, size=(1, 200)).astype(np.float64)
    got = {k: float(v[0]) for k, v in s.metric_fn()(weights).items()}
    rows = np.repeat(np.arange(200), weights[0].astype(int))
    assert got["auc"] == pytest.approx(sk.roc_auc_score(s.y_true[rows], s.probabilities[rows, 1]))
    assert got["f1"] == pytest.approx(sk.f1_score(s.y_true[rows], s.y_pred[rows]))


def test_score_order_changes_no_metric() -> None:
    s = _classification(2)
    assert _point(s.in_score_order()) == pytest.approx(_point(s), rel=1e-12)
    first = bootstrap(s.in_score_order().metric_fn(), 600, resamples=50, seed=1, confidence=0.9)
    assert all(e.low <= e.value <= e.high for e in first.values())


def test_intervals_hold_the_estimate_and_repeat_with_the_seed() -> None:
    s = _classification(3)
    first = bootstrap(s.metric_fn(), 600, resamples=300, seed=7, confidence=0.95)
    again = bootstrap(s.metric_fn(), 600, resamples=300, seed=7, confidence=0.95)
    other = bootstrap(s.metric_fn(), 600, resamples=300, seed=8, confidence=0.95)
    assert first == again and first != other
    for name, e in first.items():
        assert e.low <= e.value <= e.high, name
        assert e.high - e.low > 0, name
    narrow = bootstrap(s.metric_fn(), 600, resamples=300, seed=7, confidence=0.5)
    assert narrow["accuracy"].high - narrow["accuracy"].low < (
        first["accuracy"].high - first["accuracy"].low
    )


def test_resamples_are_drawn_in_blocks_that_fit_the_cell_budget() -> None:
    """Blocks of few resamples (as for millions of rows) give the same kind of interval."""
    rng = np.random.default_rng(4)
    y = rng.normal(size=5000)
    scores = RegressionScores(y, y + rng.normal(0, 0.5, 5000))
    one_block = bootstrap(scores.metric_fn(), 5000, resamples=200, seed=1, confidence=0.9)
    many = bootstrap(
        scores.metric_fn(), 5000, resamples=200, seed=1, confidence=0.9, max_cells=5000
    )
    assert many["rmse"].value == one_block["rmse"].value
    assert many["rmse"].low == pytest.approx(one_block["rmse"].low, rel=0.05)
    assert many["rmse"].high == pytest.approx(one_block["rmse"].high, rel=0.05)
