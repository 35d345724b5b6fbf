"""The model families AutoML tries, each with its low-cost start and its search space.

Every family names an allowlisted estimator (``training/_allowlist.py``) so the winner
is stored in a flavor serving already trusts. Each starts at its cheapest configuration
(few small trees, as FLAML's low-cost initial points do), then at a sensible default;
tree counts and sizes may grow only to a few times the family's best so far, so the cost
of a trial grows with what has been learned rather than jumping to the largest model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import optuna

from shipyard.flavors import Task

Space = Callable[[optuna.Trial, Mapping[str, int]], dict[str, Any]]
GROWTH = 4
"""How far a family's tree count and size may grow past its best configuration so far."""


@dataclass(frozen=True)
class Family:
    """One family: its estimator per task, how its parameters are drawn, where it starts.

    ``native`` families (LightGBM, XGBoost) take categories and missing values as they
    are; the others get training's preprocessing in front. ``cost`` is the expected cost
    of a first trial relative to LightGBM's, to order the first round.
    """

    name: str
    estimators: Mapping[Task, str]
    space: Space
    starts: tuple[dict[str, Any], ...]
    native: bool
    cost: float
    grows: tuple[str, ...] = ()
    max_rows: int | None = None


def _capped(trial: optuna.Trial, name: str, caps: Mapping[str, int], high: int) -> int:
    upper = max(5, min(high, caps.get(name, high)))
    return trial.suggest_int(name, 4, upper, log=True)


def _lightgbm(trial: optuna.Trial, caps: Mapping[str, int]) -> dict[str, Any]:
    return {
        "n_estimators": _capped(trial, "n_estimators", caps, 4096),
        "num_leaves": _capped(trial, "num_leaves", caps, 1024),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 128, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1 / 1024, 1.0, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.1, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1 / 1024, 1024, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1 / 1024, 1024, log=True),
        "max_bin": (1 << trial.suggest_int("log_max_bin", 3, 10)) - 1,
    }


def _xgboost(trial: optuna.Trial, caps: Mapping[str, int]) -> dict[str, Any]:
    return {
        "n_estimators": _capped(trial, "n_estimators", caps, 4096),
        "max_leaves": _capped(trial, "max_leaves", caps, 1024),
        "max_depth": 0,
        "grow_policy": "lossguide",
        "tree_method": "hist",
        "min_child_weight": trial.suggest_float("min_child_weight", 1 / 1024, 128, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1 / 1024, 1.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.1, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.1, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1 / 1024, 1024, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1 / 1024, 1024, log=True),
    }


def _forest(trial: optuna.Trial, caps: Mapping[str, int], task: Task) -> dict[str, Any]:
    params: dict[str, Any] = {
        "n_estimators": _capped(trial, "n_estimators", caps, 1024),
        "max_leaf_nodes": _capped(trial, "max_leaf_nodes", caps, 32768),
        "max_features": trial.suggest_float("max_features", 0.1, 1.0, log=True),
    }
    if task == "classification":
        params["criterion"] = trial.suggest_categorical("criterion", ["gini", "entropy"])
    return params


def _linear(trial: optuna.Trial, caps: Mapping[str, int], task: Task) -> dict[str, Any]:
    if task == "classification":
        return {"C": trial.suggest_float("C", 1 / 1024, 1024, log=True), "max_iter": 1000}
    return {"alpha": trial.suggest_float("alpha", 1 / 1024, 1024, log=True)}


def _neighbors(trial: optuna.Trial, caps: Mapping[str, int]) -> dict[str, Any]:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 64, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
    }


_LGBM_LOW = {
    "n_estimators": 4,
    "num_leaves": 4,
    "min_child_samples": 20,
    "learning_rate": 0.1,
    "colsample_bytree": 1.0,
    "reg_alpha": 1 / 1024,
    "reg_lambda": 1.0,
    "log_max_bin": 8,
}
_LGBM_DEFAULT = {**_LGBM_LOW, "n_estimators": 100, "num_leaves": 31}
_XGB_LOW = {
    "n_estimators": 4,
    "max_leaves": 4,
    "min_child_weight": 1.0,
    "learning_rate": 0.1,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_alpha": 1 / 1024,
    "reg_lambda": 1.0,
}
_XGB_DEFAULT = {**_XGB_LOW, "n_estimators": 100, "max_leaves": 32}
_FOREST_LOW = {"n_estimators": 4, "max_leaf_nodes": 4, "max_features": 0.5}
_FOREST_NEXT = {"n_estimators": 16, "max_leaf_nodes": 64, "max_features": 0.5}


def families(task: Task, rows: int) -> list[Family]:
    """The families worth trying for ``task`` on ``rows`` rows, cheapest first:
    k-NN only while the data is small enough for brute-force neighbours."""
    regress = task == "regression"

    def forest(trial: optuna.Trial, caps: Mapping[str, int]) -> dict[str, Any]:
        return _forest(trial, caps, task)

    def linear(trial: optuna.Trial, caps: Mapping[str, int]) -> dict[str, Any]:
        return _linear(trial, caps, task)

    criterion = {} if regress else {"criterion": "gini"}
    chosen = [
        Family(
            "lightgbm",
            {"classification": "lightgbm.LGBMClassifier", "regression": "lightgbm.LGBMRegressor"},
            _lightgbm,
            (_LGBM_LOW, _LGBM_DEFAULT),
            native=True,
            cost=1.0,
            grows=("n_estimators", "num_leaves"),
        ),
        Family(
            "linear",
            {
                "classification": "sklearn.linear_model.LogisticRegression",
                "regression": "sklearn.linear_model.Ridge",
            },
            linear,
            ({"alpha": 1.0} if regress else {"C": 1.0},),
            native=False,
            cost=1.0,
        ),
        Family(
            "extra_trees",
            {
                "classification": "sklearn.ensemble.ExtraTreesClassifier",
                "regression": "sklearn.ensemble.ExtraTreesRegressor",
            },
            forest,
            ({**_FOREST_LOW, **criterion}, {**_FOREST_NEXT, **criterion}),
            native=False,
            cost=2.0,
            grows=("n_estimators", "max_leaf_nodes"),
        ),
        Family(
            "random_forest",
            {
                "classification": "sklearn.ensemble.RandomForestClassifier",
                "regression": "sklearn.ensemble.RandomForestRegressor",
            },
            forest,
            ({**_FOREST_LOW, **criterion}, {**_FOREST_NEXT, **criterion}),
            native=False,
            cost=2.0,
            grows=("n_estimators", "max_leaf_nodes"),
        ),
        Family(
            "xgboost",
            {"classification": "xgboost.XGBClassifier", "regression": "xgboost.XGBRegressor"},
            _xgboost,
            (_XGB_LOW, _XGB_DEFAULT),
            native=True,
            cost=1.6,
            grows=("n_estimators", "max_leaves"),
        ),
        Family(
            "knn",
            {
                "classification": "sklearn.neighbors.KNeighborsClassifier",
                "regression": "sklearn.neighbors.KNeighborsRegressor",
            },
            _neighbors,
            ({"n_neighbors": 5, "weights": "uniform"},),
            native=False,
            cost=3.0,
            max_rows=20_000,
        ),
    ]
    return [f for f in chosen if f.max_rows is None or rows <= f.max_rows]


FAMILY_NAMES = ("lightgbm", "xgboost", "random_forest", "extra_trees", "linear", "knn")
