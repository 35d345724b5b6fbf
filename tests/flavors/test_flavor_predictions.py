"""Stored models load back as predictors that answer exactly like the fitted estimator."""

from __future__ import annotations

from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from shipyard.errors import InvalidInput
from shipyard.flavors import Predictor, artifact_digest, load_predictor, save_model


def _load(estimator: Any, signature: Any) -> Predictor:
    flavor, data = save_model(estimator)
    return load_predictor(flavor, data, signature, expected_digest=artifact_digest(data))


BINARY_MODELS = {
    "lightgbm": lambda: lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1),
    "xgboost": lambda: xgboost.XGBClassifier(n_estimators=30, n_jobs=1),
    "logistic_pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    "random_forest": lambda: RandomForestClassifier(n_estimators=20, random_state=0),
    "gradient_boosting": lambda: GradientBoostingClassifier(n_estimators=20, random_state=0),
}


@pytest.mark.parametrize("name", list(BINARY_MODELS))
def test_binary_round_trip_matches_estimator(
    name: str, breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    estimator = BINARY_MODELS[name]().fit(x, y)
    predictor = _load(estimator, numeric_signature(x.shape[1], [0, 1]))

    prediction = predictor.predict(x)

    assert predictor.accepts_ndarray
    assert predictor.fast_path
    assert prediction.probabilities is not None
    np.testing.assert_allclose(prediction.probabilities, estimator.predict_proba(x), atol=1e-7)
    np.testing.assert_array_equal(prediction.predictions, estimator.predict(x))
    single = predictor.predict(x[7:8])
    assert single.probabilities is not None
    np.testing.assert_allclose(single.probabilities, prediction.probabilities[7:8], atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: lightgbm.LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1),
        lambda: make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=500)),
        lambda: RandomForestClassifier(n_estimators=10, random_state=0),
    ],
)
def test_multiclass_labels_come_from_the_signature_classes(
    make: Any, iris: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = iris
    estimator = make().fit(x, y)
    predictor = _load(estimator, numeric_signature(4, ["setosa", "versicolor", "virginica"]))

    prediction = predictor.predict(x)

    assert prediction.probabilities is not None and prediction.probabilities.shape == (150, 3)
    np.testing.assert_allclose(prediction.probabilities, estimator.predict_proba(x), atol=1e-7)
    assert prediction.predictions.tolist() == estimator.predict(x).tolist()


def test_xgboost_multiclass_on_encoded_labels(
    iris: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = iris
    classes = ["setosa", "versicolor", "virginica"]
    estimator = xgboost.XGBClassifier(n_estimators=10, n_jobs=1).fit(x, np.searchsorted(classes, y))
    predictor = _load(estimator, numeric_signature(4, classes))

    prediction = predictor.predict(x)

    assert prediction.probabilities is not None
    np.testing.assert_allclose(prediction.probabilities, estimator.predict_proba(x), atol=1e-7)
    assert (prediction.predictions == y).mean() > 0.9


@pytest.mark.parametrize(
    "make",
    [
        lambda: lightgbm.LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1),
        lambda: xgboost.XGBRegressor(n_estimators=20, n_jobs=1),
        lambda: Ridge(),
        lambda: RandomForestRegressor(n_estimators=10, random_state=0),
        lambda: HistGradientBoostingRegressor(max_iter=10, random_state=0),
        lambda: make_pipeline(SimpleImputer(), StandardScaler(), Ridge()),
    ],
)
def test_regression_returns_values_without_probabilities(
    make: Any, diabetes: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = diabetes
    estimator = make().fit(x, y)
    predictor = _load(estimator, numeric_signature(x.shape[1], None))

    prediction = predictor.predict(x)

    assert prediction.probabilities is None
    np.testing.assert_allclose(prediction.predictions, estimator.predict(x), rtol=1e-6)


def test_imputing_pipeline_answers_rows_with_missing_values(
    diabetes: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = diabetes
    estimator = make_pipeline(SimpleImputer(), Ridge()).fit(x, y)
    predictor = _load(estimator, numeric_signature(x.shape[1], None))
    holes = x[:5].copy()
    holes[:, 2] = np.nan

    np.testing.assert_allclose(predictor.predict(holes).predictions, estimator.predict(holes))


def test_numeric_predictor_also_takes_a_dataframe_in_any_column_order(
    breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    estimator = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    predictor = _load(estimator, numeric_signature(x.shape[1], [0, 1]))
    frame = pd.DataFrame(x[:4], columns=[f"f{i}" for i in range(x.shape[1])])

    shuffled = frame[frame.columns[::-1]]

    np.testing.assert_array_equal(predictor.predict(shuffled).predictions, estimator.predict(x[:4]))


@pytest.mark.parametrize("name", ["lightgbm", "xgboost", "logistic_pipeline"])
def test_wrong_row_width_is_invalid_input(
    name: str, breast_cancer: tuple[np.ndarray, np.ndarray], numeric_signature: Any
) -> None:
    x, y = breast_cancer
    predictor = _load(BINARY_MODELS[name]().fit(x, y), numeric_signature(x.shape[1], [0, 1]))

    with pytest.raises(InvalidInput) as caught:
        predictor.predict(x[:2, :5])
    assert caught.value.field == "features"
