"""The metric AutoML optimizes: its default, its direction, computed as training does."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from shipyard.errors import InvalidInput
from shipyard.flavors import Task
from shipyard.training._metrics import METRICS, compute_metrics

LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mse", "mae", "mape", "median_ae"})


def check_metric(task: Task, metric: str | None) -> None:
    """Refuse a metric the task does not have (None picks the default later)."""
    if metric is not None and metric not in METRICS[task]:
        raise InvalidInput(
            f"unknown {task} metric {metric!r}; choose from {sorted(METRICS[task])}",
            field="metric",
        )


def default_metric(task: Task, classes: int) -> str:
    """As FLAML's ``auto``: ROC AUC for two classes, log loss for more, R² for regression."""
    if task == "regression":
        return "r2"
    return "roc_auc" if classes == 2 else "log_loss"


def loss(metric: str, value: float) -> float:
    """A value to minimize, whatever the metric's direction."""
    return value if metric in LOWER_IS_BETTER else -value


def score(metric: str, y: np.ndarray, output: np.ndarray, classes: np.ndarray | None) -> float:
    """The metric of ``output`` (probabilities or values) on ``y``; NaN when undefined.

    The metrics scored thousands of times in a search are computed here directly (the
    same formulas as scikit-learn's, without its input checks, a third of a small trial's
    time); the others as training computes them.
    """
    fast = _fast(metric, y, output, classes)
    if fast is not None:
        return fast
    values, _ = compute_metrics([metric], y, output, classes)
    return float(values.get(metric, np.nan))


def _fast(
    metric: str, y: np.ndarray, output: np.ndarray, classes: np.ndarray | None
) -> float | None:
    if classes is None:
        error = np.asarray(y, dtype=np.float64) - output
        if metric == "r2":
            total = float(np.sum((y - np.mean(y)) ** 2))
            return 1.0 - float(np.sum(error**2)) / total if total > 0 else None
        if metric in ("rmse", "mse"):
            mse = float(np.mean(error**2))
            return mse if metric == "mse" else float(np.sqrt(mse))
        if metric == "mae":
            return float(np.mean(np.abs(error)))
        return None
    index = np.searchsorted(classes, y)
    if metric == "log_loss":
        proba = output / output.sum(axis=1, keepdims=True)
        eps = np.finfo(proba.dtype).eps
        picked = np.clip(proba[np.arange(len(index)), index], eps, 1 - eps)
        return float(-np.mean(np.log(picked)))
    if metric == "accuracy":
        return float(np.mean(output.argmax(axis=1) == index))
    if metric == "roc_auc" and len(classes) == 2:
        positive = index == 1
        count = int(positive.sum())
        if count in (0, len(index)):
            return None
        ranks = rankdata(output[:, 1])
        total = float(ranks[positive].sum()) - count * (count + 1) / 2
        return total / (count * (len(index) - count))
    return None
