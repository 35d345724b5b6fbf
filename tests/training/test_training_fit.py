"""fit(): trains a spec on an Arrow table, scores it, stores it safely, and is reproducible."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipyard.flavors import load_predictor
from shipyard.training import FitResult, fit, parse_spec


def _spec(**fields: Any) -> Any:
    base = {"dataset": "d", "target": "target", "task": "classification"}
    return parse_spec({**base, **fields})


def _reloaded_predictions(result: FitResult, features: Any) -> Any:
    predictor = load_predictor(
        result.flavor, result.model_bytes, result.signature, expected_digest=result.digest
    )
    return predictor.predict(features)


BREAST_CANCER_SPECS = {
    "lightgbm": {"estimator": "lightgbm.LGBMClassifier", "params": {"n_estimators": 40}},
    "xgboost": {"estimator": "xgboost.XGBClassifier", "params": {"n_estimators": 40}},
    "logistic_pipeline": {
        "estimator": "sklearn.pipeline",
        "params": {
            "steps": [
                {"estimator": "sklearn.preprocessing.StandardScaler"},
                {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"C": 1.0}},
            ]
        },
    },
}


@pytest.mark.parametrize("name", list(BREAST_CANCER_SPECS))
def test_breast_cancer_holdout(name: str, breast_cancer_table: pa.Table) -> None:
    progress: list[tuple[float, str]] = []
    lines: list[str] = []

    result = fit(
        _spec(**BREAST_CANCER_SPECS[name]),
        breast_cancer_table,
        on_progress=lambda f, m: progress.append((f, m)),
        log=lines.append,
    )

    assert result.flavor == {"logistic_pipeline": "sklearn"}.get(name, name)
    assert set(result.metrics) == {"accuracy", "f1", "roc_auc", "log_loss"}
    assert result.metrics["accuracy"] > 0.9 and result.metrics["roc_auc"] > 0.95
    assert result.signature.classes == [0, 1]
    assert result.signature.input_names == breast_cancer_table.column_names[:-1]
    assert {c.type for c in result.signature.inputs} == {"float"}
    assert result.validation.num_rows == 114
    assert result.validation.column_names == [*result.signature.input_names, "target"]
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] == 1.0
    assert any(line.startswith("metrics: accuracy=") for line in lines)
    assert not any(line.startswith("warning") for line in lines)


def test_round_trip_predicts_like_the_trained_estimator(breast_cancer_table: pa.Table) -> None:
    result = fit(_spec(**BREAST_CANCER_SPECS["lightgbm"]), breast_cancer_table)
    features = np.column_stack(
        [result.validation.column(n).to_numpy() for n in result.signature.input_names]
    )

    prediction = _reloaded_predictions(result, features)

    assert prediction.probabilities is not None
    np.testing.assert_allclose(
        prediction.probabilities, result.estimator.predict_proba(features), atol=1e-12
    )
    labels = result.validation.column("target").to_numpy()
    assert (prediction.predictions == labels).mean() == pytest.approx(result.metrics["accuracy"])


@pytest.mark.parametrize(
    ("estimator", "params"),
    [
        ("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 15}),
        ("xgboost.XGBClassifier", {"n_estimators": 15}),
        ("sklearn.svm.SVC", {}),
    ],
)
def test_iris_multiclass_kfold(
    estimator: str, params: dict[str, Any], iris_table: pa.Table
) -> None:
    spec = _spec(estimator=estimator, params=params, split={"kind": "kfold", "folds": 3})

    result = fit(spec, iris_table)

    assert result.signature.classes == ["setosa", "versicolor", "virginica"]
    assert result.metrics["accuracy"] > 0.85
    assert {"accuracy_std", "f1_std", "roc_auc_std", "log_loss_std"} <= set(result.metrics)
    assert result.validation.num_rows == 150
    features = np.column_stack(
        [iris_table.column(n).to_numpy() for n in result.signature.input_names]
    )
    assert (
        _reloaded_predictions(result, features).predictions
        == iris_table.column("target").to_numpy()
    ).mean() > 0.9


@pytest.mark.parametrize(
    ("estimator", "params"),
    [
        ("sklearn.linear_model.Ridge", {"alpha": 0.5}),
        ("lightgbm.LGBMRegressor", {"n_estimators": 30}),
        ("sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 20}),
    ],
)
def test_diabetes_regression(
    estimator: str, params: dict[str, Any], diabetes_table: pa.Table
) -> None:
    spec = _spec(task="regression", estimator=estimator, params=params)

    result = fit(spec, diabetes_table)

    assert set(result.metrics) == {"rmse", "mae", "r2"}
    assert 0.1 < result.metrics["r2"] < 1.0
    assert result.signature.classes is None
    assert result.params["random_state"] == 0


@pytest.mark.parametrize(
    ("estimator", "flavor"),
    [
        ("sklearn.linear_model.LogisticRegression", "sklearn"),
        ("lightgbm.LGBMClassifier", "lightgbm"),
        ("xgboost.XGBClassifier", "xgboost"),
    ],
)
def test_string_columns_are_encoded_automatically(
    estimator: str, flavor: str, mixed_table: pa.Table
) -> None:
    import pandas as pd

    result = fit(_spec(target="label", estimator=estimator), mixed_table)

    assert result.flavor == flavor
    assert [c.type for c in result.signature.inputs] == ["string", "float", "integer", "boolean"]
    assert result.signature.classes == ["no", "yes"]
    assert result.metrics["accuracy"] > 0.85
    request = pd.DataFrame(
        {
            "colour": ["red", "violet", None],
            "size": [0.0, 0.0, 3.0],
            "count": [1, 2, 3],
            "flag": [True, False, True],
        }
    )
    prediction = _reloaded_predictions(result, request)
    assert prediction.predictions.tolist() == ["yes", "no", "yes"]


@pytest.mark.parametrize(
    "fields",
    [
        BREAST_CANCER_SPECS["lightgbm"],
        BREAST_CANCER_SPECS["xgboost"],
        {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"n_estimators": 10}},
    ],
)
def test_same_spec_and_data_give_the_same_metrics_and_bytes(
    fields: dict[str, Any], breast_cancer_table: pa.Table
) -> None:
    spec = _spec(**fields, split={"kind": "kfold", "folds": 3, "seed": 5})

    first = fit(spec, breast_cancer_table)
    second = fit(spec, breast_cancer_table)

    assert first.metrics == second.metrics
    assert first.digest == second.digest


def test_seed_changes_the_split(breast_cancer_table: pa.Table) -> None:
    fields = {"estimator": "sklearn.linear_model.LogisticRegression", "params": {"max_iter": 50}}

    one = fit(_spec(**fields, split={"seed": 1}), breast_cancer_table)
    two = fit(_spec(**fields, split={"seed": 2}), breast_cancer_table)

    assert one.metrics != two.metrics
    assert one.params["random_state"] == 1 and two.params["random_state"] == 2


def test_estimator_warnings_go_to_the_log(breast_cancer_table: pa.Table) -> None:
    lines: list[str] = []
    spec = _spec(estimator="sklearn.linear_model.LogisticRegression", params={"max_iter": 5})

    fit(spec, breast_cancer_table, log=lines.append)

    assert any("ConvergenceWarning" in line for line in lines)


def test_selected_features_and_metrics(breast_cancer_table: pa.Table) -> None:
    spec = _spec(
        estimator="sklearn.tree.DecisionTreeClassifier",
        params={"max_depth": 3},
        features=["mean radius", "worst texture"],
        metrics=["balanced_accuracy", "precision", "recall"],
    )

    result = fit(spec, breast_cancer_table)

    assert result.signature.input_names == ["mean radius", "worst texture"]
    assert set(result.metrics) == {"balanced_accuracy", "precision", "recall"}
    assert result.validation.column_names == ["mean radius", "worst texture", "target"]


@pytest.mark.parametrize("estimator", ["xgboost.XGBClassifier", "lightgbm.LGBMClassifier"])
def test_boolean_target_keeps_boolean_labels(estimator: str, mixed_table: pa.Table) -> None:
    result = fit(_spec(target="flag", estimator=estimator, features=["size", "count"]), mixed_table)

    assert result.signature.classes == [False, True]
    features = np.column_stack([mixed_table.column(n).to_numpy() for n in ("size", "count")])
    labels = _reloaded_predictions(result, features.astype(float)).predictions
    assert labels.dtype == bool
