"""Lean numpy kernels for common scikit-learn models.

scikit-learn validates its input on every call, which costs far more than the
arithmetic for one row. For the models below the same arithmetic is done here
directly. A kernel is only used after ``SklearnPredictor`` has checked that it
agrees with scikit-learn on probe rows; anything else takes scikit-learn's path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.ensemble._gradient_boosting import predict_stages
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from shipyard.flavors._sklearn_forest import StackedForest

Kernel = Callable[[np.ndarray], np.ndarray]


def compile_kernel(model: Any, width: int) -> tuple[Kernel, bool] | None:
    """Return ``(kernel, handles_nan)`` for ``model`` fed ``width`` columns, or None.

    The kernel maps a float64 matrix to class probabilities (a single positive-class
    column for binary models) or to regression values.
    """
    steps = [step for _, step in model.steps] if isinstance(model, Pipeline) else [model]
    return compile_steps(steps, width)


def compile_steps(steps: list[Any], width: int) -> tuple[Kernel, bool] | None:
    """``compile_kernel`` for the steps of a pipeline."""
    if not steps or any(step is None or step == "passthrough" for step in steps):
        return None
    transforms: list[Kernel] = []
    for step in steps[:-1]:
        compiled = _transform(step, width)
        if compiled is None:
            return None
        kernel, width = compiled
        transforms.append(kernel)
    final = _final(steps[-1], width)
    if final is None:
        return None
    handles_nan = isinstance(steps[0], SimpleImputer) and len(steps) > 1

    def run(x: np.ndarray) -> np.ndarray:
        for transform in transforms:
            x = transform(x)
        return final(x)

    return run, handles_nan


def _vector(value: Any, width: int) -> np.ndarray | None:
    array = np.asarray(value, dtype=np.float64)
    return array if array.shape == (width,) else None


def _fits(step: Any, width: int) -> bool:
    return getattr(step, "n_features_in_", None) == width


def _transform(step: Any, width: int) -> tuple[Kernel, int] | None:
    if not _fits(step, width):
        return None
    if isinstance(step, StandardScaler | RobustScaler):
        centered, scaled = (
            (step.with_mean, step.with_std)
            if isinstance(step, StandardScaler)
            else (step.with_centering, step.with_scaling)
        )
        center = step.mean_ if isinstance(step, StandardScaler) else step.center_
        return _center_scale(
            _vector(center, width) if centered else None,
            _vector(step.scale_, width) if scaled else None,
            width,
        )
    if isinstance(step, MinMaxScaler):
        return _min_max(step, width)
    if isinstance(step, SimpleImputer):
        return _imputer(step, width)
    return None


def _center_scale(
    center: np.ndarray | None, scale: np.ndarray | None, width: int
) -> tuple[Kernel, int]:
    def run(x: np.ndarray) -> np.ndarray:
        if center is not None:
            x = x - center
        if scale is not None:
            x = x / scale
        return x

    return run, width


def _min_max(step: MinMaxScaler, width: int) -> tuple[Kernel, int] | None:
    scale, offset = _vector(step.scale_, width), _vector(step.min_, width)
    if scale is None or offset is None:
        return None
    low, high = (float(v) for v in step.feature_range)
    clip = bool(step.clip)

    def run(x: np.ndarray) -> np.ndarray:
        x = x * scale + offset
        return np.clip(x, low, high) if clip else x

    return run, width


def _imputer(step: SimpleImputer, width: int) -> tuple[Kernel, int] | None:
    marker = step.missing_values
    if step.add_indicator or not (isinstance(marker, float) and np.isnan(marker)):
        return None
    try:
        fill = _vector(step.statistics_, width)
    except (TypeError, ValueError):
        return None
    if fill is None or not np.all(np.isfinite(fill)):
        return None

    def run(x: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(x), fill, x)

    return run, width


def _final(step: Any, width: int) -> Kernel | None:
    if not _fits(step, width):
        return None
    if isinstance(step, LogisticRegression):
        return _logistic(step, width)
    if isinstance(step, LinearRegression | Ridge | ElasticNet | Lasso):
        coef = _vector(step.coef_, width)
        intercept = float(np.asarray(step.intercept_, dtype=np.float64).reshape(-1)[0])
        return None if coef is None else (lambda x: x @ coef + intercept)
    if isinstance(step, DecisionTreeClassifier | DecisionTreeRegressor):
        return _forest([step], step)
    if isinstance(
        step,
        RandomForestClassifier | RandomForestRegressor | ExtraTreesClassifier | ExtraTreesRegressor,
    ):
        return _forest(list(step.estimators_), step)
    if isinstance(step, GradientBoostingClassifier | GradientBoostingRegressor):
        return _gradient_boosting(step, width)
    if isinstance(step, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
        return _hist_gradient_boosting(step)
    return None


def _logistic(step: LogisticRegression, width: int) -> Kernel | None:
    coef = np.asarray(step.coef_, dtype=np.float64)
    intercept = np.asarray(step.intercept_, dtype=np.float64)
    n_classes = len(step.classes_)
    if n_classes == 2 and coef.shape == (1, width) and intercept.shape == (1,):
        weights, bias = coef[0], float(intercept[0])
        return lambda x: expit(x @ weights + bias)
    if n_classes > 2 and coef.shape == (n_classes, width) and intercept.shape == (n_classes,):
        weights_t = np.ascontiguousarray(coef.T)

        def softmax(x: np.ndarray) -> np.ndarray:
            scores = x @ weights_t + intercept
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
            return scores

        return softmax
    return None


def _forest(trees: list[Any], owner: Any) -> Kernel | None:
    if not trees or getattr(owner, "n_outputs_", 1) != 1:
        return None
    n_classes = len(owner.classes_) if hasattr(owner, "classes_") else 0
    if n_classes and any(getattr(tree, "n_classes_", None) != n_classes for tree in trees):
        return None
    forest = StackedForest.from_trees([tree.tree_ for tree in trees], max(n_classes, 1))
    count = float(len(trees))

    def run(x: np.ndarray) -> np.ndarray:
        total: np.ndarray = forest.leaf_values(x).sum(axis=1)
        values = total if n_classes else total[:, 0]
        return values / count if count > 1 else values

    return run


def _gradient_boosting(step: Any, width: int) -> Kernel | None:
    """Constant initial scores plus ``predict_stages``, as ``GradientBoosting*._raw_predict``."""
    if not (step.init_ == "zero" or isinstance(step.init_, DummyClassifier | DummyRegressor)):
        return None
    start = np.asarray(step._raw_predict_init(np.zeros((1, width), dtype=np.float32)))
    stages, rate, loss = step.estimators_, float(step.learning_rate), step._loss
    classifier = isinstance(step, GradientBoostingClassifier)

    def run(x: np.ndarray) -> np.ndarray:
        raw = np.repeat(start, len(x), axis=0)
        predict_stages(stages, np.ascontiguousarray(x, dtype=np.float32), rate, raw)
        if not classifier:
            return raw.ravel()
        proba: np.ndarray = loss.predict_proba(raw.ravel() if raw.shape[1] == 1 else raw)
        return proba

    return run


def _hist_gradient_boosting(step: Any) -> Kernel | None:
    """``HistGradientBoosting*._raw_predict`` without per-call validation."""
    if step._preprocessor is not None or np.any(step.is_categorical_ or False):
        return None
    per_iteration = int(step.n_trees_per_iteration_)
    predictors = [p for iteration in step._predictors for p in iteration]
    if not predictors or any(len(it) != per_iteration for it in step._predictors):
        return None
    forest = StackedForest.from_hist_predictors(predictors)
    baseline, loss = np.asarray(step._baseline_prediction), step._loss
    classifier = isinstance(step, HistGradientBoostingClassifier)

    def run(x: np.ndarray) -> np.ndarray:
        leaves = forest.leaf_values(x).reshape(len(x), -1, per_iteration)
        raw = leaves.sum(axis=1) + baseline
        output: np.ndarray = (
            loss.predict_proba(raw) if classifier else loss.link.inverse(raw.ravel())
        )
        return output

    return run
