"""Training specs: every mistake is one InvalidInput naming the field, before any training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import InvalidInput
from shipyard.training import ESTIMATORS, TrainingSpec, load_spec, parse_spec

BASE: dict[str, Any] = {
    "dataset": "breast_cancer@3",
    "target": "target",
    "task": "classification",
    "estimator": "sklearn.linear_model.LogisticRegression",
}


def _problem(**changes: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_spec({**BASE, **changes})
    return caught.value


def test_minimal_spec_gets_defaults() -> None:
    spec = parse_spec(BASE)

    assert spec.split.kind == "holdout"
    assert spec.split.test_size == 0.2
    assert spec.split.seed == 0
    assert spec.experiment == "default"
    assert spec.features is None and spec.metrics is None and spec.params == {}


def test_yaml_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        "name: lgbm-baseline\n"
        "dataset: breast_cancer\n"
        "target: target\n"
        "task: classification\n"
        "estimator: lightgbm.LGBMClassifier\n"
        "params: {n_estimators: 50, learning_rate: 0.1, max_bin: 63}\n"
        "split: {kind: kfold, folds: 3, seed: 7}\n"
        "metrics: [accuracy, roc_auc]\n"
    )

    spec = load_spec(path)

    assert isinstance(spec, TrainingSpec)
    assert spec.params == {"n_estimators": 50, "learning_rate": 0.1, "max_bin": 63}
    assert (spec.split.kind, spec.split.folds, spec.split.seed) == ("kfold", 3, 7)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"estimater": "x"}, "estimater", "did you mean 'estimator'"),
        ({"split": {"kind": "holdout", "test_sise": 0.3}}, "split.test_sise", "'test_size'"),
        ({"split": {"test_size": 1.5}}, "split.test_size", "less than 1"),
        ({"split": {"kind": "bootstrap"}}, "split.kind", "'holdout' or 'kfold'"),
        ({"split": {"folds": 1}}, "split.folds", "greater than or equal to 2"),
        ({"task": "ranking"}, "task", "classification"),
        ({"features": []}, "features", "must not be empty"),
        ({"features": ["a", "a"]}, "features", "more than once"),
        ({"features": ["target"]}, "features", "cannot also be a feature"),
        ({"metrics": ["accuracy", "rmse"]}, "metrics[1]", "unknown classification metric"),
        ({"params": {"n_estimators": 10}}, "params.n_estimators", "has no parameter"),
        ({"params": {"C": -1}}, "params.C", "must be a float in the range"),
        ({"params": {"penalty": "l7"}}, "params.penalty", "penalty"),
        (
            {"estimator": "LogisticRegression"},
            "estimator",
            "sklearn.linear_model.LogisticRegression",
        ),
        ({"estimator": "sklearn.svm.SVR"}, "estimator", "unknown estimator"),
        ({"estimator": "os.system"}, "estimator", "unknown estimator"),
        ({"estimator": "sklearn.linear_model.Ridge"}, "estimator", "is a regressor"),
        (
            {"estimator": "lightgbm.LGBMRegressor"},
            "estimator",
            "use 'lightgbm.LGBMClassifier'",
        ),
        (
            {"estimator": "sklearn.svm.SVC", "params": {"probability": True}},
            "params.probability",
            "calibrates",
        ),
        (
            {
                "estimator": "sklearn.neighbors.KNeighborsClassifier",
                "params": {"algorithm": "kd_tree"},
            },
            "params.algorithm",
            "must be 'brute'",
        ),
        (
            {"estimator": "xgboost.XGBClassifier", "params": {"objective": "multi:softmax"}},
            "params.objective",
            "not supported",
        ),
        (
            {"estimator": "xgboost.XGBClassifier", "params": {"callbacks": []}},
            "params.callbacks",
            "cannot be set",
        ),
        (
            {"estimator": "lightgbm.LGBMClassifier", "params": {"num_leafs": 8}},
            "params.num_leafs",
            "did you mean 'num_leaves'",
        ),
    ],
)
def test_each_mistake_names_its_field(changes: dict[str, Any], field: str, words: str) -> None:
    problem = _problem(**changes)

    assert problem.field == field
    assert words in problem.message
    assert "\n" not in str(problem)


def test_missing_required_key_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_spec({k: v for k, v in BASE.items() if k != "target"})
    assert caught.value.field == "target"
    assert "required" in caught.value.message


@pytest.mark.parametrize(
    ("steps", "field", "words"),
    [
        ([], "params.steps", "non-empty"),
        (
            [{"estimator": "sklearn.linear_model.LogisticRegression", "parms": {}}],
            "params.steps[0].parms",
            "unknown step key",
        ),
        (
            [{"estimator": "sklearn.preprocessing.StandardScalar"}, {}],
            "params.steps[0].estimator",
            "StandardScaler",
        ),
        (
            [
                {"estimator": "sklearn.preprocessing.StandardScaler", "params": {"with_men": True}},
                {"estimator": "sklearn.linear_model.LogisticRegression"},
            ],
            "params.steps[0].params.with_men",
            "did you mean 'with_mean'",
        ),
        (
            [
                {"estimator": "sklearn.linear_model.LogisticRegression"},
                {"estimator": "sklearn.preprocessing.StandardScaler"},
            ],
            "params.steps[0].estimator",
            "not a transformer",
        ),
        (
            [
                {"estimator": "sklearn.preprocessing.StandardScaler"},
                {"estimator": "lightgbm.LGBMClassifier"},
            ],
            "params.steps[1].estimator",
            "cannot be a pipeline step",
        ),
        (
            [
                {"estimator": "sklearn.preprocessing.StandardScaler"},
                {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"C": 0}},
            ],
            "params.steps[1].params.C",
            "must be a float",
        ),
    ],
)
def test_pipeline_mistakes_name_the_step(steps: list[Any], field: str, words: str) -> None:
    problem = _problem(estimator="sklearn.pipeline", params={"steps": steps})

    assert problem.field == field
    assert words in problem.message


def test_pipeline_takes_only_steps() -> None:
    problem = _problem(estimator="sklearn.pipeline", params={"steps": [], "memory": "/tmp"})
    assert problem.field == "params.memory"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dataset: [unclosed\n", "invalid YAML at line"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_bad_yaml_is_one_line_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text)

    with pytest.raises(InvalidInput) as caught:
        load_spec(path)
    assert caught.value.field == "spec"
    assert words in caught.value.message


def test_missing_spec_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read training spec"):
        load_spec(tmp_path / "absent.yaml")


def test_allowlist_covers_the_documented_estimators() -> None:
    expected = {
        "lightgbm.LGBMClassifier",
        "xgboost.XGBRegressor",
        "sklearn.linear_model.LogisticRegression",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        "sklearn.svm.SVC",
        "sklearn.neighbors.KNeighborsRegressor",
        "sklearn.tree.DecisionTreeRegressor",
        "sklearn.decomposition.PCA",
        "sklearn.preprocessing.OneHotEncoder",
    }
    assert expected <= set(ESTIMATORS)
