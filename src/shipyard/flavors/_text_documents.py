"""Free-text inputs as documents, as a step of a stored scikit-learn pipeline.

``TfidfVectorizer`` wants one string per row and fails on nulls; ``TextDocuments``
turns one string column (2-D, as a ColumnTransformer passes it) into a flat list of
strings with missing values as "". It is a Shipyard class, trusted by its exact name
when skops loads a pipeline, and holds no state beyond its input width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class TextDocuments(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """One string column as a list of documents; None, NaN and NA become ""."""

    def fit(self, X: Any, y: Any = None) -> TextDocuments:
        self.n_features_in_ = _column(X).shape[1]
        if self.n_features_in_ != 1:
            raise ValueError(f"a text step takes one column, got {self.n_features_in_}")
        return self

    def transform(self, X: Any) -> list[str]:
        values = _column(X)
        if values.shape[1] != 1:
            raise ValueError(f"a text step takes one column, got {values.shape[1]}")
        return [_document(v) for v in values[:, 0]]


def _column(X: Any) -> np.ndarray:
    values = np.asarray(X, dtype=object)
    return values.reshape(len(values), -1)


def _document(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if pd.isna(value) else str(value)
