"""Models with string inputs take DataFrames; unseen and missing strings never fail a request."""

from __future__ import annotations

from typing import Any

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from shipyard.errors import InvalidInput
from shipyard.flavors import (
    ColumnSpec,
    ModelSignature,
    Predictor,
    artifact_digest,
    load_predictor,
    save_model,
)

SIGNATURE = ModelSignature(
    inputs=[
        ColumnSpec(name="colour", type="string"),
        ColumnSpec(name="size", type="float"),
        ColumnSpec(name="count", type="integer"),
    ],
    task="classification",
    target="label",
    classes=["no", "yes"],
)
REQUEST = pd.DataFrame(
    {
        "colour": ["red", "purple", None, "blue"],
        "size": [0.1, 0.1, 2.5, -1.0],
        "count": [1, 2, 3, 4],
    }
)


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    n = 400
    colour = rng.choice(np.array(["red", "green", "blue"], dtype=object), n)
    colour[::23] = None
    size = rng.normal(size=n)
    label = np.where((colour == "red") | (size > 1.0), "yes", "no")
    frame = pd.DataFrame(
        {"colour": colour, "size": size, "count": rng.integers(0, 9, n).astype(float)}
    )
    return frame, label


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    known = sorted(v for v in frame["colour"].unique() if isinstance(v, str))
    out = frame.copy()
    out["colour"] = pd.Categorical(frame["colour"], categories=known)
    return out


def _load(estimator: Any) -> Predictor:
    flavor, data = save_model(estimator)
    return load_predictor(flavor, data, SIGNATURE, expected_digest=artifact_digest(data))


def _one_hot_pipeline() -> Pipeline:
    encoder = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["colour"])],
        remainder="passthrough",
    )
    return Pipeline(
        [("encode", encoder), ("scale", StandardScaler()), ("model", LogisticRegression())]
    )


def test_one_hot_pipeline_answers_like_scikit_learn(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    model = _one_hot_pipeline().fit(frame, label)
    predictor = _load(model)

    prediction = predictor.predict(REQUEST)

    assert not predictor.accepts_ndarray
    assert predictor.fast_path
    assert prediction.probabilities is not None
    np.testing.assert_allclose(prediction.probabilities, model.predict_proba(REQUEST), atol=1e-9)
    assert prediction.predictions.tolist() == model.predict(REQUEST).tolist()
    assert prediction.predictions[0] == "yes"


@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_boosters_treat_unseen_and_missing_strings_as_missing(
    library: str, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = table
    y = (label == "yes").astype(int)
    if library == "lightgbm":
        model: Any = lightgbm.LGBMClassifier(n_estimators=30, verbose=-1, n_jobs=1)
    else:
        model = xgboost.XGBClassifier(n_estimators=30, n_jobs=1, enable_categorical=True)
    model.fit(_categorical(frame), y)
    predictor = _load(model)

    prediction = predictor.predict(REQUEST)
    as_missing = REQUEST.assign(colour=[None, None, None, "blue"])
    expected = model.predict_proba(_categorical(pd.concat([frame.iloc[:0], as_missing])))

    assert predictor.fast_path
    assert prediction.probabilities is not None
    np.testing.assert_allclose(prediction.probabilities[1:], expected[1:], atol=1e-6)
    assert prediction.predictions.tolist()[0] == "yes"
    single = predictor.predict(REQUEST.iloc[3:4])
    assert single.probabilities is not None
    np.testing.assert_allclose(single.probabilities, prediction.probabilities[3:4], atol=1e-12)


def test_string_model_needs_its_columns(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    predictor = _load(_one_hot_pipeline().fit(frame, label))

    with pytest.raises(InvalidInput, match="missing input columns"):
        predictor.predict(REQUEST.drop(columns=["size"]))
    with pytest.raises(InvalidInput, match="DataFrame"):
        predictor.predict(np.zeros((1, 3)))
    with pytest.raises(InvalidInput, match="numbers"):
        predictor.predict(REQUEST.assign(size=["a", "b", "c", "d"]))


def test_non_finite_numbers_take_the_checked_path(table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    predictor = _load(_one_hot_pipeline().fit(frame, label))

    with pytest.raises(InvalidInput, match="NaN"):
        predictor.predict(REQUEST.assign(size=[np.nan, 0.0, 0.0, 0.0]))


@pytest.mark.parametrize("library", ["sklearn", "lightgbm"])
def test_large_and_small_frames_agree(library: str, table: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, label = table
    if library == "sklearn":
        model: Any = _one_hot_pipeline().fit(frame, label)
    else:
        y = (label == "yes").astype(int)
        model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(
            _categorical(frame), y
        )
    predictor = _load(model)
    request = frame.iloc[:100].assign(count=pd.array(np.arange(100), dtype="Int64"))

    batch = predictor.predict(request)
    rows = [predictor.predict(request.iloc[i : i + 1]) for i in (0, 41, 99)]

    assert batch.probabilities is not None
    for i, row in zip((0, 41, 99), rows, strict=True):
        assert row.probabilities is not None
        np.testing.assert_allclose(row.probabilities[0], batch.probabilities[i], atol=1e-12)
