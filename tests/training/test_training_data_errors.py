"""Problems with the data are InvalidInput errors that name the field and the problem."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from shipyard.errors import InvalidInput
from shipyard.training import fit, parse_spec


def _fit_error(table: pa.Table, **fields: Any) -> InvalidInput:
    base = {
        "dataset": "d",
        "target": "y",
        "task": "classification",
        "estimator": "sklearn.tree.DecisionTreeClassifier",
    }
    with pytest.raises(InvalidInput) as caught:
        fit(parse_spec({**base, **fields}), table)
    return caught.value


def _table(**columns: Any) -> pa.Table:
    rows = 40
    data = {"a": np.arange(rows, dtype=float), "y": np.arange(rows) % 2}
    data.update(columns)
    return pa.table(data)


def test_target_missing_from_the_dataset() -> None:
    problem = _fit_error(_table(), target="label")
    assert problem.field == "target"
    assert "'label' is not in the dataset" in problem.message


def test_target_with_nulls_counts_them() -> None:
    labels = pa.array([None if i in (3, 9, 20) else i % 2 for i in range(40)])
    problem = _fit_error(_table(y=labels))
    assert problem.field == "target"
    assert problem.message == "target column 'y' has 3 null values"


def test_regression_target_with_nan_counts_them() -> None:
    values = np.arange(40, dtype=float)
    values[[1, 2]] = np.nan
    problem = _fit_error(
        _table(y=values), task="regression", estimator="sklearn.linear_model.Ridge"
    )
    assert problem.message == "target column 'y' has 2 null values"


def test_feature_not_in_the_dataset() -> None:
    problem = _fit_error(_table(), features=["a", "b"])
    assert problem.field == "features"
    assert "['b']" in problem.message


def test_no_rows() -> None:
    empty = pa.table({"a": pa.array([], pa.float64()), "y": pa.array([], pa.int64())})
    problem = _fit_error(empty)
    assert problem.field == "dataset"
    assert "no rows" in problem.message


def test_single_class_target() -> None:
    problem = _fit_error(_table(y=np.ones(40, dtype=int)))
    assert problem.field == "target"
    assert "at least two classes" in problem.message and "[1]" in problem.message


def test_fractional_classification_target() -> None:
    problem = _fit_error(_table(y=np.linspace(0, 1, 40)))
    assert problem.field == "target"
    assert "task: regression" in problem.message


def test_string_regression_target() -> None:
    problem = _fit_error(
        _table(y=np.array(["a", "b"] * 20)),
        task="regression",
        estimator="sklearn.linear_model.Ridge",
    )
    assert problem.field == "target"
    assert "numeric target" in problem.message


def test_unsupported_feature_type() -> None:
    spans = pa.array(np.arange(40).astype("timedelta64[s]"))
    problem = _fit_error(_table(wait=spans))
    assert problem.field == "features"
    assert "'wait' has type duration[s]" in problem.message


def test_missing_values_without_preprocessing_and_an_estimator_that_cannot_take_them() -> None:
    values = np.arange(40, dtype=float)
    values[5] = np.nan
    problem = _fit_error(
        _table(a=values),
        estimator="sklearn.linear_model.LogisticRegression",
        preprocessing="none",
    )
    assert problem.field == "features"
    assert "['a'] have missing values" in problem.message and "SimpleImputer" in problem.message


def test_missing_values_are_fine_behind_an_imputer() -> None:
    values = np.arange(40, dtype=float)
    values[5] = np.nan
    spec = parse_spec(
        {
            "dataset": "d",
            "target": "y",
            "task": "classification",
            "estimator": "sklearn.pipeline",
            "params": {
                "steps": [
                    {"estimator": "sklearn.impute.SimpleImputer"},
                    {"estimator": "sklearn.linear_model.LogisticRegression"},
                ]
            },
        }
    )
    assert "accuracy" in fit(spec, _table(a=values)).metrics


def test_class_too_rare_to_stratify() -> None:
    labels = np.array([0] * 39 + [1])
    problem = _fit_error(_table(y=labels))
    assert problem.field == "split.stratify"


def test_class_absent_from_the_training_split() -> None:
    labels = np.array([0] * 39 + [1])
    problem = _fit_error(_table(y=labels), split={"stratify": False, "seed": 3, "test_size": 0.5})
    assert problem.field == "split"
    assert "no rows of class [1]" in problem.message


def test_more_folds_than_rows() -> None:
    problem = _fit_error(_table(), split={"kind": "kfold", "folds": 50})
    assert problem.field == "split.folds"


def test_library_rejecting_a_parameter_value() -> None:
    problem = _fit_error(_table(), estimator="lightgbm.LGBMClassifier", params={"num_leaves": -3})
    assert problem.field == "params"
    assert "could not be trained" in problem.message
