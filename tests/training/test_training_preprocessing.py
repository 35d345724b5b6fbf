"""Preprocessing from column roles: a mixed table with nulls trains without hand encoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder

from shipyard.errors import InvalidInput
from shipyard.flavors import load_predictor
from shipyard.flavors._timestamp_parts import TimestampParts
from shipyard.training import FitResult, check_columns, fit, parse_spec


def _spec(**fields: Any) -> Any:
    base = {"dataset": "d", "target": "churned", "task": "classification"}
    return parse_spec({**base, **fields})


def _reloaded(result: FitResult) -> Any:
    return load_predictor(
        result.flavor, result.model_bytes, result.signature, expected_digest=result.digest
    )


def _requests() -> pd.DataFrame:
    """Rows as serving builds them: an unseen city, nulls everywhere, epoch-second times."""
    return pd.DataFrame(
        {
            "city": np.array(["atlantis", None, "paris"], dtype=object),
            "plan": np.array(["pro", "free", None], dtype=object),
            "spend": [np.nan, 10.0, 500.0],
            "visits": [3.0, np.nan, 20.0],
            "mobile": [1.0, np.nan, 0.0],
            "signup": [pd.Timestamp("2023-08-01T10:00Z").timestamp(), np.nan, 1.68e9],
        }
    )


@pytest.mark.parametrize(
    ("fields", "flavor"),
    [
        ({"estimator": "sklearn.linear_model.LogisticRegression"}, "sklearn"),
        (
            {
                "estimator": "sklearn.ensemble.RandomForestClassifier",
                "params": {"n_estimators": 20},
                "preprocessing": "auto",
            },
            "sklearn",
        ),
        ({"estimator": "lightgbm.LGBMClassifier", "params": {"n_estimators": 30}}, "lightgbm"),
        ({"estimator": "xgboost.XGBClassifier", "params": {"n_estimators": 30}}, "xgboost"),
    ],
)
def test_a_mixed_table_with_nulls_trains_and_predicts_after_reload(
    fields: dict[str, Any], flavor: str, messy_table: pa.Table
) -> None:
    result = fit(_spec(**fields), messy_table)

    assert result.flavor == flavor
    types = [c.type for c in result.signature.inputs]
    assert types == ["string", "string", "float", "float", "boolean", "timestamp"]
    assert result.metrics["roc_auc"] > 0.85
    predictor = _reloaded(result)
    assert predictor.known_categories["city"] == ["brest", "lille", "lyon", "nice", "paris"]
    prediction = predictor.predict(_requests())
    assert prediction.probabilities is not None
    assert np.isfinite(prediction.probabilities).all() and len(prediction.predictions) == 3


def test_default_steps_are_one_branch_per_role(messy_table: pa.Table) -> None:
    result = fit(_spec(estimator="sklearn.linear_model.LogisticRegression"), messy_table)

    prepare = result.estimator.steps[0][1]
    assert isinstance(prepare, ColumnTransformer)
    branches = {name: columns for name, _, columns in prepare.transformers}
    assert branches == {
        "categorical_text": [0, 1],
        "numeric": [2, 3],
        "boolean": [4],
        "timestamp": [5],
    }
    encoder = prepare.named_transformers_["categorical_text"]
    assert isinstance(encoder, OneHotEncoder) and encoder.handle_unknown == "infrequent_if_exist"


def test_options_and_role_overrides_shape_the_steps(messy_table: pa.Table) -> None:
    spec = _spec(
        estimator="sklearn.tree.DecisionTreeClassifier",
        preprocessing={
            "roles": {"visits": "categorical"},
            "numeric": {"scale": "minmax", "impute": "constant", "fill_value": -1},
            "categorical": {"encode": "ordinal", "max_categories": 4},
            "timestamp": {"parts": ["month", "weekday"]},
        },
    )

    result = fit(spec, messy_table)

    prepare = result.estimator.steps[0][1]
    branches = {name: (step, columns) for name, step, columns in prepare.transformers_}
    assert branches["categorical"][1] == [3]  # visits, a float column, by role
    assert isinstance(branches["categorical"][0], OrdinalEncoder)
    assert isinstance(branches["categorical_text"][0], OrdinalEncoder)
    assert isinstance(branches["numeric"][0].named_steps["scale"], MinMaxScaler)
    parts = branches["timestamp"][0].named_steps["parts"]
    assert isinstance(parts, TimestampParts) and parts.parts == ["month", "weekday"]
    assert np.isfinite(_reloaded(result).predict(_requests()).probabilities).all()


def test_all_numeric_tables_keep_the_lean_serving_kernel(breast_cancer_table: pa.Table) -> None:
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "target",
            "task": "classification",
            "estimator": "sklearn.linear_model.LogisticRegression",
        }
    )

    result = fit(spec, breast_cancer_table)

    assert [name for name, _ in result.estimator.steps] == ["impute", "scale", "model"]
    predictor = _reloaded(result)
    assert predictor.fast_path
    row = np.full((1, len(result.signature.inputs)), np.nan)
    assert np.isfinite(predictor.predict(row).probabilities).all()


def test_timestamp_parts_are_utc_calendar_fields() -> None:
    seconds = np.array([[pd.Timestamp("2024-02-29T23:30:00Z").timestamp()], [np.nan]])
    parts = TimestampParts(parts=["year", "month", "day", "weekday", "hour", "minute", "dayofyear"])

    out = parts.fit(seconds).transform(seconds)

    assert out[0].tolist() == [2024, 2, 29, 3, 23, 30, 60]
    assert np.isnan(out[1]).all()


@pytest.mark.parametrize(
    ("preprocessing", "field", "words"),
    [
        ({"roles": {"nowhere": "numeric"}}, "preprocessing.roles.nowhere", "not a feature"),
        ({"roles": {"city": "numeric"}}, "preprocessing.roles.city", "string column cannot"),
        ({"roles": {"signup": "categorical"}}, "preprocessing.roles.signup", "timestamp column"),
        ({"roles": {"signup": "text"}}, "preprocessing.roles.signup", "role 'text'"),
    ],
)
def test_roles_that_do_not_fit_the_table_name_the_role(
    preprocessing: dict[str, Any], field: str, words: str, messy_table: pa.Table
) -> None:
    spec = _spec(estimator="sklearn.tree.DecisionTreeClassifier", preprocessing=preprocessing)
    schema = {"city": "string", "signup": "timestamp", "churned": "string"}

    with pytest.raises(InvalidInput) as at_fit:
        fit(spec, messy_table)
    with pytest.raises(InvalidInput) as at_submit:
        check_columns(spec, schema)

    for problem in (at_fit.value, at_submit.value):
        assert problem.field == field and words in problem.message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {
                "estimator": "lightgbm.LGBMClassifier",
                "preprocessing": {"numeric": {"scale": "none"}},
            },
            "preprocessing",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "preprocessing": {"mode": "none", "roles": {"city": "categorical"}},
            },
            "preprocessing.mode",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "preprocessing": {"roles": {"churned": "categorical"}},
            },
            "preprocessing.roles.churned",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "features": ["spend"],
                "preprocessing": {"roles": {"city": "categorical"}},
            },
            "preprocessing.roles.city",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "preprocessing": {"roles": {"city": "words"}},
            },
            "preprocessing.roles.city",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "preprocessing": {"categorical": {"encode": "hashing"}},
            },
            "preprocessing.categorical.encode",
        ),
        (
            {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "preprocessing": {"numerics": {}},
            },
            "preprocessing.numerics",
        ),
    ],
)
def test_spec_problems_are_found_before_any_data(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _spec(**fields)

    assert caught.value.field == field


def test_preprocessing_none_keeps_the_one_hot_of_strings(mixed_table: pa.Table) -> None:
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "label",
            "task": "classification",
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 10},
            "preprocessing": "none",
        }
    )

    result = fit(spec, mixed_table)

    assert [name for name, _ in result.estimator.steps] == ["encode", "model"]
    assert _reloaded(result).fast_path
