"""Calendar parts of timestamp inputs, as a step of a stored scikit-learn pipeline.

Timestamp columns reach models as epoch seconds (``_timestamps``); ``TimestampParts``
turns them into year, month, ... features. It is a Shipyard class, trusted by its
exact name when skops loads a pipeline, and holds only its list of part names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

TIMESTAMP_PARTS = ("year", "month", "day", "weekday", "hour", "minute", "dayofyear", "epoch")
DEFAULT_PARTS = ("year", "month", "day", "weekday", "hour", "epoch")


class TimestampParts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Calendar parts (UTC) of epoch-second columns: one output per column and part.

    Missing seconds give missing parts, for an imputer after it. ``epoch`` is the
    seconds themselves, so a model can still see order in time.
    """

    def __init__(self, parts: Sequence[str] = DEFAULT_PARTS) -> None:
        self.parts = parts

    def fit(self, X: Any, y: Any = None) -> TimestampParts:
        unknown = [p for p in self.parts if p not in TIMESTAMP_PARTS]
        if unknown or not self.parts:
            raise ValueError(f"timestamp parts must be some of {list(TIMESTAMP_PARTS)}")
        self.n_features_in_ = np.asarray(X, dtype=np.float64).reshape(len(X), -1).shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        seconds = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        if seconds.shape[1] != self.n_features_in_:
            raise ValueError(
                f"expected {self.n_features_in_} timestamp columns, got {seconds.shape[1]}"
            )
        return np.column_stack([_parts(seconds[:, j], self.parts) for j in range(seconds.shape[1])])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = (
            list(input_features)
            if input_features is not None
            else [f"x{j}" for j in range(self.n_features_in_)]
        )
        return np.array([f"{name}_{part}" for name in names for part in self.parts], dtype=object)


def _parts(seconds: np.ndarray, parts: Sequence[str]) -> np.ndarray:
    out = np.full((len(seconds), len(parts)), np.nan)
    known = np.isfinite(seconds) & (np.abs(seconds) < 2.5e11)
    moments = np.floor(seconds[known]).astype(np.int64).astype("datetime64[s]")
    days = moments.astype("datetime64[D]")
    for k, part in enumerate(parts):
        if part == "epoch":
            out[:, k] = seconds
            continue
        if part == "year":
            value = moments.astype("datetime64[Y]").astype(np.int64) + 1970
        elif part == "month":
            value = moments.astype("datetime64[M]").astype(np.int64) % 12 + 1
        elif part == "day":
            value = (days - moments.astype("datetime64[M]")).astype(np.int64) + 1
        elif part == "weekday":
            value = (days.astype(np.int64) + 3) % 7
        elif part == "hour":
            value = (moments - days).astype(np.int64) // 3600
        elif part == "minute":
            value = (moments - days).astype(np.int64) // 60 % 60
        else:
            value = (days - moments.astype("datetime64[Y]")).astype(np.int64) + 1
        out[known, k] = value
    return out
