"""The categories a fitted scikit-learn pipeline learned for each input column.

Serving counts request values outside them as unseen; this reads them from the
one-hot and ordinal encoders of a leading ColumnTransformer, the shape Shipyard
trains, and finds nothing in any other shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

from shipyard.flavors._base import ModelSignature


def encoder_categories(model: Any, signature: ModelSignature) -> dict[str, list[Any]]:
    """Known values per input column (missing values left out); empty when there are none."""
    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    if not isinstance(first, ColumnTransformer) or not hasattr(first, "transformers_"):
        return {}
    names = signature.input_names
    found: dict[str, list[Any]] = {}
    for _, transformer, columns in first.transformers_:
        encoder = _encoder(transformer)
        if encoder is None or not isinstance(columns, list | tuple | np.ndarray):
            continue
        for column, categories in zip(columns, encoder.categories_, strict=False):
            name = names[int(column)] if isinstance(column, int | np.integer) else column
            if name in names:
                found[str(name)] = [v for v in categories.tolist() if not _missing(v)]
    return found


def _encoder(transformer: Any) -> OneHotEncoder | OrdinalEncoder | None:
    if isinstance(transformer, Pipeline):
        transformer = transformer.steps[-1][1]
    if isinstance(transformer, OneHotEncoder | OrdinalEncoder):
        return transformer
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
