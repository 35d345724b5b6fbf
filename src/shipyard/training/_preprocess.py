"""Column roles and the scikit-learn preprocessing steps a spec's roles and options call for.

Roles come from each column's type in the dataset (integers and floats numeric,
booleans boolean, strings categorical, or text when their values read as free text
(``_text_role``), timestamps and dates timestamp) unless ``preprocessing.roles``
overrides them. Tables whose columns are all numeric get a flat imputer-and-scaler
prefix (which serving compiles to a lean kernel); others get one ColumnTransformer
with a branch per role, and one TF-IDF branch per text column. LightGBM and XGBoost
take the table natively instead: categories, missing values, timestamps as epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler

from shipyard.errors import InvalidInput
from shipyard.flavors import ModelSignature
from shipyard.flavors._text_documents import TextDocuments
from shipyard.flavors._timestamp_parts import TimestampParts
from shipyard.training._preprocessing_spec import (
    CategoricalOptions,
    NumericOptions,
    PreprocessingSpec,
    Role,
    TextOptions,
)
from shipyard.training._text_role import SAMPLE_ROWS, looks_like_free_text

ALLOWED_ROLES: Mapping[str, tuple[Role, ...]] = {
    "integer": ("numeric", "categorical", "timestamp"),
    "float": ("numeric", "categorical", "timestamp"),
    "boolean": ("boolean", "numeric", "categorical"),
    "string": ("categorical", "text"),
    "timestamp": ("timestamp",),
    "date": ("timestamp",),
}
_DEFAULT_ROLE: Mapping[str, Role] = {
    "integer": "numeric",
    "float": "numeric",
    "boolean": "boolean",
    "string": "categorical",
    "timestamp": "timestamp",
}
Steps = list[tuple[str, Any]]


def check_roles(preprocessing: PreprocessingSpec, types: Mapping[str, str]) -> None:
    """Every role names a known column whose type allows it; InvalidInput names the role.

    ``types`` maps column names to dataset types (``integer``, ``string``, ``date`` ...).
    """
    for column, role in preprocessing.roles.items():
        field = f"preprocessing.roles.{column}"
        kind = types.get(column)
        if kind is None:
            shown = ", ".join(repr(n) for n in list(types)[:10])
            raise InvalidInput(
                f"column {column!r} is not a feature (features: {shown})", field=field
            )
        allowed = ALLOWED_ROLES.get(kind, ())
        if role not in allowed:
            raise InvalidInput(
                f"a {kind} column cannot have role {role!r}; its roles are {list(allowed)}",
                field=field,
            )


def column_roles(
    signature: ModelSignature,
    preprocessing: PreprocessingSpec,
    features: pd.DataFrame | None = None,
) -> dict[str, Role]:
    """The role of every model input: its override, else the default for its type, with
    string columns in ``features`` whose values read as free text given ``text``."""
    types = {c.name: c.type for c in signature.inputs}
    check_roles(preprocessing, types)
    roles: dict[str, Role] = {}
    for column in signature.inputs:
        role = preprocessing.roles.get(column.name, _DEFAULT_ROLE[column.type])
        if (
            column.name not in preprocessing.roles
            and role == "categorical"
            and features is not None
            and column.name in features
            and looks_like_free_text(features[column.name].iloc[:SAMPLE_ROWS].tolist())
        ):
            role = "text"
        roles[column.name] = role
    return roles


def preprocessing_steps(
    signature: ModelSignature, preprocessing: PreprocessingSpec, roles: Mapping[str, Role]
) -> Steps:
    """The unfitted steps to put before the estimator (``preprocessing`` in ``auto`` mode)."""
    if all(role == "numeric" for role in roles.values()):
        return _numeric_steps(preprocessing.numeric)
    positions: dict[str, list[int]] = {}
    for i, column in enumerate(signature.inputs):
        role: str = roles[column.name]
        branch = "categorical_text" if role == "categorical" and column.type == "string" else role
        positions.setdefault(f"text_{i}" if role == "text" else branch, []).append(i)
    branches: list[tuple[str, Any, list[int]]] = []
    for branch, columns in positions.items():
        branches.append((branch, _branch(branch, preprocessing), columns))
    return [("preprocess", ColumnTransformer(branches, remainder="drop", sparse_threshold=0.0))]


def _branch(branch: str, spec: PreprocessingSpec) -> Any:
    if branch.startswith("text_"):
        return Pipeline([("documents", TextDocuments()), ("tfidf", _tfidf(spec.text))])
    if branch == "numeric":
        return _pipeline(_numeric_steps(spec.numeric))
    if branch == "boolean":
        fill = float(spec.boolean.fill_value)
        return _imputer(spec.boolean.impute, fill)
    if branch == "timestamp":
        steps: Steps = [("parts", TimestampParts(parts=list(spec.timestamp.parts)))]
        steps += _numeric_steps(spec.numeric.model_copy(update={"impute": "median"}))
        return Pipeline(steps)
    return _pipeline(_categorical_steps(spec.categorical, text=branch == "categorical_text"))


def _tfidf(options: TextOptions) -> TfidfVectorizer:
    """Built-in tokenizing only: a custom callable would not load from skops."""
    return TfidfVectorizer(
        lowercase=True,
        max_features=options.max_features,
        ngram_range=(1, options.ngram_max),
    )


def _numeric_steps(options: NumericOptions) -> Steps:
    steps: Steps = [("impute", _imputer(options.impute, options.fill_value))]
    if options.scale == "standard":
        steps.append(("scale", StandardScaler()))
    elif options.scale == "minmax":
        steps.append(("scale", MinMaxScaler()))
    return steps


def _categorical_steps(options: CategoricalOptions, *, text: bool) -> Steps:
    steps: Steps = []
    if options.impute != "none":
        fill: Any = options.fill_value if text else np.nan
        missing: Any = None if text else np.nan
        if options.impute == "constant" and not text:
            fill = -1.0
        steps.append(
            (
                "impute",
                SimpleImputer(
                    missing_values=missing,
                    strategy=options.impute,
                    fill_value=fill,
                    keep_empty_features=True,
                ),
            )
        )
    limits = {"max_categories": options.max_categories, "min_frequency": options.min_frequency}
    if options.encode == "onehot":
        unknown = "infrequent_if_exist" if options.unknown == "ignore" else "error"
        encoder: Any = OneHotEncoder(handle_unknown=unknown, sparse_output=False, **limits)
    elif options.unknown == "ignore":
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-2,
            **limits,
        )
    else:
        encoder = OrdinalEncoder(encoded_missing_value=-2, **limits)
    steps.append(("encode", encoder))
    return steps


def _imputer(strategy: str, fill_value: float) -> SimpleImputer:
    return SimpleImputer(
        strategy=strategy,
        fill_value=fill_value if strategy == "constant" else None,
        keep_empty_features=True,
    )


def _pipeline(steps: Steps) -> Any:
    return steps[0][1] if len(steps) == 1 else Pipeline(steps)
