"""Evaluation metrics by task, computed from labels, probabilities or values."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from sklearn import metrics

from shipyard.errors import InvalidInput
from shipyard.flavors import Task

DEFAULT_METRICS: dict[Task, tuple[str, ...]] = {
    "classification": ("accuracy", "f1", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
METRICS: dict[Task, frozenset[str]] = {
    "classification": frozenset(
        {"accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc", "log_loss"}
    ),
    "regression": frozenset({"rmse", "mse", "mae", "r2", "mape", "median_ae"}),
}
_REGRESSION: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": metrics.root_mean_squared_error,
    "mse": metrics.mean_squared_error,
    "mae": metrics.mean_absolute_error,
    "r2": metrics.r2_score,
    "mape": metrics.mean_absolute_percentage_error,
    "median_ae": metrics.median_absolute_error,
}


def resolve_metrics(task: Task, names: Sequence[str] | None) -> tuple[str, ...]:
    """The metric names to compute, checked against the task."""
    if names is None:
        return DEFAULT_METRICS[task]
    for i, name in enumerate(names):
        if name not in METRICS[task]:
            raise InvalidInput(
                f"unknown {task} metric {name!r}; choose from {sorted(METRICS[task])}",
                field=f"metrics[{i}]",
            )
    return tuple(names)


def compute_metrics(
    names: Sequence[str],
    y_true: np.ndarray,
    output: np.ndarray,
    classes: np.ndarray | None,
) -> tuple[dict[str, float], list[str]]:
    """Compute each metric; return ``(values, notes)``, notes naming metrics left undefined.

    ``output`` is class probabilities in ``classes`` order, or predicted values.
    """
    values: dict[str, float] = {}
    notes: list[str] = []
    for name in names:
        try:
            value = (
                _regression_metric(name, y_true, output)
                if classes is None
                else _classification_metric(name, y_true, output, classes)
            )
        except ValueError as exc:
            notes.append(f"{name} is undefined on this split: {exc}")
            continue
        if math.isfinite(value):
            values[name] = value
        else:
            notes.append(f"{name} is undefined on this split")
    return values, notes


def _regression_metric(name: str, y_true: np.ndarray, predicted: np.ndarray) -> float:
    if len(y_true) < 2 and name == "r2":
        raise ValueError("r2 needs at least two rows")
    return float(_REGRESSION[name](y_true, predicted))


def _classification_metric(
    name: str, y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray
) -> float:
    labels = classes[proba.argmax(axis=1)]
    binary = len(classes) == 2
    if name == "accuracy":
        return float(metrics.accuracy_score(y_true, labels))
    if name == "balanced_accuracy":
        return float(metrics.balanced_accuracy_score(y_true, labels))
    if name in ("f1", "precision", "recall"):
        score = {"f1": metrics.f1_score, "precision": metrics.precision_score}.get(
            name, metrics.recall_score
        )
        if binary:
            return float(score(y_true, labels, pos_label=classes[1], zero_division=0))
        return float(score(y_true, labels, labels=classes, average="macro", zero_division=0))
    if name == "log_loss":
        normalized = proba / proba.sum(axis=1, keepdims=True)
        return float(metrics.log_loss(y_true, normalized, labels=classes))
    present = np.unique(y_true)
    if len(present) < 2:
        raise ValueError("roc_auc needs at least two classes in the evaluated rows")
    if binary:
        return float(metrics.roc_auc_score(y_true == classes[1], proba[:, 1]))
    if len(present) < len(classes):
        raise ValueError("roc_auc needs every class in the evaluated rows")
    return float(metrics.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
