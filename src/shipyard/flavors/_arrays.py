"""Turning caller input into what a model expects, and model output into a Prediction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ModelSignature, Prediction


def as_matrix(features: np.ndarray | pd.DataFrame, signature: ModelSignature) -> np.ndarray:
    """Return a C-contiguous float64 matrix with one column per signature input."""
    width = len(signature.inputs)
    if isinstance(features, pd.DataFrame):
        features = _numeric_columns(features, signature)
    elif not isinstance(features, np.ndarray):
        raise InvalidInput(
            f"expected a numpy array or a DataFrame, got {type(features).__name__}",
            field="features",
        )
    x = features
    if x.dtype != np.float64 or not x.flags.c_contiguous:
        try:
            x = np.ascontiguousarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"features must be numbers: {exc}", field="features") from exc
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != width:
        raise InvalidInput(
            f"expected rows of {width} values in signature order, got shape {x.shape}",
            field="features",
        )
    return x


def as_frame(
    features: np.ndarray | pd.DataFrame,
    signature: ModelSignature,
    *,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Return a DataFrame with the signature's columns, in order, with training-time dtypes.

    Numbers and booleans become float64; strings become object columns (missing as None),
    or, given the model's ``categories`` per column, pandas categoricals over exactly those
    categories, with unseen values as missing (LightGBM, XGBoost).
    """
    if not isinstance(features, pd.DataFrame):
        raise InvalidInput(
            f"this model takes a DataFrame with columns {signature.input_names}",
            field="features",
        )
    missing = [c for c in signature.input_names if c not in features.columns]
    if missing:
        raise InvalidInput(f"missing input columns {missing}", field="features")
    columns: dict[str, Any] = {}
    for spec in signature.inputs:
        values = features[spec.name]
        if spec.type == "string":
            text = string_values(values.to_numpy(dtype=object))
            columns[spec.name] = (
                text if categories is None else categorical(text, categories.get(spec.name, ()))
            )
        else:
            columns[spec.name] = float_column(values, spec.name)
    return pd.DataFrame(columns, index=features.index)


def string_values(values: np.ndarray) -> np.ndarray:
    """Return an object array of str, with every missing value as None."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        missing = value is None or (not isinstance(value, str) and bool(pd.isna(value)))
        out[i] = None if missing else str(value)
    return out


def class_array(signature: ModelSignature) -> np.ndarray | None:
    """The signature's classes as an array for fast label lookup; None for regression."""
    if signature.task == "regression":
        return None
    if not signature.classes:
        raise InvalidInput("a classification signature needs classes", field="signature.classes")
    return np.asarray(signature.classes)


def categorical(text: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    """A categorical over exactly ``categories``; values outside them (and None) are missing."""
    index = pd.Index(list(categories), dtype=object)
    return pd.Categorical.from_codes(index.get_indexer(text), categories=index)


def to_prediction(output: np.ndarray, classes: np.ndarray | None) -> Prediction:
    """Build a Prediction from class probabilities, or from values when ``classes`` is None.

    A one-dimensional probability output is the positive-class column of a binary model.
    """
    if classes is None:
        return Prediction(np.asarray(output, dtype=np.float64).reshape(-1))
    proba = np.asarray(output, dtype=np.float64)
    if proba.ndim == 1:
        positive = proba
        proba = np.empty((len(positive), 2))
        np.subtract(1.0, positive, out=proba[:, 0])
        proba[:, 1] = positive
    return Prediction(classes[proba.argmax(axis=1)], proba)


def _numeric_columns(frame: pd.DataFrame, signature: ModelSignature) -> np.ndarray:
    missing = [c for c in signature.input_names if c not in frame.columns]
    if missing:
        raise InvalidInput(f"missing input columns {missing}", field="features")
    return np.column_stack([float_column(frame[c], c) for c in signature.input_names])


def float_column(values: pd.Series, name: str) -> np.ndarray:
    """One DataFrame column as float64, missing values as NaN; datetimes as epoch seconds."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        from shipyard.flavors._timestamps import datetime_seconds

        return datetime_seconds(values)
    try:
        column: np.ndarray = values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"column {name!r} must hold numbers: {exc}", field="features") from exc
    return column
