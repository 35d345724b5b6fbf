"""The metric AutoML optimizes: its default, its direction, computed as training does."""

from __future__ import annotations

import numpy as np

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
    """The metric of ``output`` (probabilities or values) on ``y``; NaN when undefined."""
    values, _ = compute_metrics([metric], y, output, classes)
    return float(values.get(metric, np.nan))
