"""Scoring one configuration of one family by cross-validation, with its costs measured.

Each trial fits one model per fold on the rows of the current sample, keeps its
out-of-fold outputs (for ensemble selection when the sample is the whole table), and
measures fit time and prediction time per row. A trial that would pass the search's
deadline stops between folds and is dropped.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from shipyard.automl._candidates import Family
from shipyard.automl._data import SearchData
from shipyard.automl._scoring import score
from shipyard.training._estimators import build_estimator
from shipyard.training._spec import SplitSpec
from shipyard.training._split import holdout_split, kfold_splits

HOLDOUT_ABOVE_ROWS = 100_000
CELLS_PER_HOUR_FOR_CV = 10_000_000
HOLDOUT_SHARE = 0.1


def use_holdout(rows: int, features: int, budget_seconds: float) -> bool:
    """FLAML's rule: cross-validate while the data is small for the budget (under 10 M cells
    per hour of it) and under 100,000 rows; else one holdout split of 10%."""
    cells = rows * features / (1 - HOLDOUT_SHARE)
    return rows >= HOLDOUT_ABOVE_ROWS or cells >= CELLS_PER_HOUR_FOR_CV * budget_seconds / 3600


@dataclass
class TrialResult:
    """What one trial found: fold scores, out-of-fold outputs, and its costs."""

    family: str
    params: dict[str, Any]
    sample: int
    fold_scores: list[float]
    fit_seconds: float
    predict_seconds_per_row: float
    oof: np.ndarray | None
    model: Any = field(repr=False, default=None)
    number: int = 0
    size_bytes: int = 0
    store_seconds: float = 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_scores))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_scores))


def build_model(family: Family, data: SearchData, params: dict[str, Any], n_jobs: int) -> Any:
    """The unfitted model of a configuration: the allowlisted estimator, behind training's
    preprocessing for scikit-learn families."""
    name = family.estimators[data.task]
    used = dict(params)
    if family.native or family.name in ("random_forest", "extra_trees"):
        used["n_jobs"] = n_jobs
    built = build_estimator(name, used, data.task, 0)
    if family.native:
        return built.estimator
    return Pipeline(
        [*((name, clone(step)) for name, step in data.steps), ("model", built.estimator)]
    )


def fit_model(model: Any, family: Family | None, data: SearchData, rows: np.ndarray) -> Any:
    """Fit ``model`` of ``family`` (None: a composite of scikit-learn members) on ``rows``;
    XGBoost takes class indices rather than labels."""
    view = data.features(family is not None and family.native)
    y = data.y[rows]
    if family is not None and family.name == "xgboost" and data.classes is not None:
        y = np.searchsorted(data.classes, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(view.rows(rows), y)
    return model


def model_output(model: Any, native: bool, data: SearchData, rows: np.ndarray) -> np.ndarray:
    """Class probabilities (in the classes' order) or predicted values on ``rows``."""
    features = data.features(native).rows(rows)
    method = model.predict_proba if data.classes is not None else model.predict
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(method(features), dtype=np.float64)


class Evaluator:
    """Cross-validates configurations on a sample of the prepared data."""

    def __init__(
        self,
        data: SearchData,
        metric: str,
        folds: int,
        seed: int,
        n_jobs: int,
        holdout: bool = False,
    ) -> None:
        self.data, self.metric, self.folds, self.seed, self.n_jobs = (
            data,
            metric,
            folds,
            seed,
            n_jobs,
        )
        self.holdout = holdout
        self._splits: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def splits(self, sample: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The folds over the first ``sample`` rows (content order makes them a fair sample)."""
        if sample not in self._splits:
            self._splits[sample] = list(self._make_splits(sample))
        return self._splits[sample]

    def _make_splits(self, sample: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        y = self.data.y[:sample]
        if self.holdout:
            split = SplitSpec(test_size=HOLDOUT_SHARE, seed=self.seed)
            yield holdout_split(y, split, self.data.classes)
            return
        spec = SplitSpec(kind="kfold", folds=self.folds, seed=self.seed)
        yield from kfold_splits(y, spec, self.data.classes)

    def evaluate(
        self, family: Family, params: dict[str, Any], sample: int, deadline: float
    ) -> TrialResult | None:
        """Score ``params``; None when the deadline passed before every fold was done."""
        data, full = self.data, sample >= self.data.rows and not self.holdout
        width = len(data.classes) if data.classes is not None else 0
        oof = np.zeros((sample, width) if width else sample) if full else None
        scores: list[float] = []
        fit_seconds = predict_seconds = 0.0
        predicted = 0
        model: Any = None
        for train, test in self.splits(sample):
            if time.monotonic() > deadline:
                return None
            model = build_model(family, data, params, self.n_jobs)
            started = time.perf_counter()
            fit_model(model, family, data, train)
            fitted = time.perf_counter()
            output = model_output(model, family.native, data, test)
            predict_seconds += time.perf_counter() - fitted
            fit_seconds += fitted - started
            predicted += len(test)
            if oof is not None:
                oof[test] = output
            scores.append(score(self.metric, data.y[test], output, data.classes))
        if not all(np.isfinite(scores)):
            scores = [s if np.isfinite(s) else np.nan for s in scores]
        return TrialResult(
            family.name,
            params,
            sample,
            scores,
            fit_seconds,
            predict_seconds / max(predicted, 1),
            oof,
            model,
            size_bytes=model_size(model),
            store_seconds=store_seconds(model, family.native),
        )


STORE_BASE_SECONDS = 0.3
STORE_SECONDS_PER_TREE = 0.012
STORE_SECONDS_PER_BYTE = 1e-6


def store_seconds(model: Any, native: bool) -> float:
    """How long storing the model, then loading and checking it, should take: skops spends
    about 6 ms per tree of a forest here, and every format a little per byte (doubled)."""
    last = model.steps[-1][1] if isinstance(model, Pipeline) else model
    trees = 0 if native else len(getattr(last, "estimators_", []) or [])
    return (
        STORE_BASE_SECONDS
        + STORE_SECONDS_PER_TREE * trees
        + STORE_SECONDS_PER_BYTE * model_size(model)
    )


def model_size(model: Any) -> int:
    """The bytes of the arrays a fitted model holds (LightGBM and XGBoost: its text dump),
    a cheap stand-in for its stored size; the winner's entry gets the stored size itself."""
    booster = getattr(model, "booster_", None)
    if booster is not None:
        return len(booster.model_to_string())
    if hasattr(model, "get_booster"):
        return len(model.get_booster().save_raw("json"))
    return _array_bytes(model, {})


def _array_bytes(obj: Any, seen: dict[int, Any]) -> int:
    if id(obj) in seen:
        return 0
    seen[id(obj)] = obj  # held, so that no later object reuses its id
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            return sum(_array_bytes(item, seen) for item in obj.flat)
        return int(obj.nbytes)
    if isinstance(obj, list | tuple):
        return sum(_array_bytes(item, seen) for item in obj)
    if isinstance(obj, dict):
        return sum(_array_bytes(item, seen) for item in obj.values())
    state = getattr(obj, "__getstate__", None)
    if type(obj).__module__.startswith("sklearn.tree") and callable(state):
        return _array_bytes(state(), seen)
    if hasattr(obj, "__dict__"):
        return _array_bytes(vars(obj), seen)
    return 0
