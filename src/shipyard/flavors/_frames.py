"""Encoding DataFrame rows with string columns straight into float matrices.

pandas-based encoding costs milliseconds per call; these encoders read each
column once and look categories up in dicts. Predictors check them against the
library's own DataFrame path on probe rows before using them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput
from shipyard.flavors._arrays import float_column, string_values
from shipyard.flavors._base import ModelSignature

_SMALL_FRAME = 64
_NUMBER_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def _require_frame(features: Any, signature: ModelSignature) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise InvalidInput(
            f"this model takes a DataFrame with columns {signature.input_names}", field="features"
        )
    missing = [c for c in signature.input_names if c not in features.columns]
    if missing:
        raise InvalidInput(f"missing input columns {missing}", field="features")
    return features


def _columns(frame: pd.DataFrame, signature: ModelSignature) -> list[np.ndarray]:
    """Each signature column as values: one object block for small frames (pandas charges
    per column access), else a float64 or object array per column."""
    positions = [frame.columns.get_loc(name) for name in signature.input_names]
    if len(frame) <= _SMALL_FRAME and all(isinstance(p, int) for p in positions):
        block = frame.to_numpy(dtype=object)
        return [
            block[:, p] if c.type == "string" else _floats(block[:, p], c.name)
            for p, c in zip(positions, signature.inputs, strict=True)
        ]
    return [
        frame[c.name].to_numpy(dtype=object)
        if c.type == "string"
        else float_column(frame[c.name], c.name)
        for c in signature.inputs
    ]


def _floats(values: np.ndarray, name: str) -> np.ndarray:
    out = np.empty(len(values))
    for i, value in enumerate(values):
        if isinstance(value, _NUMBER_TYPES):
            out[i] = value
        elif value is None or value is pd.NA:
            out[i] = np.nan
        else:
            raise InvalidInput(
                f"column {name!r} must hold numbers, got {type(value).__name__}", field="features"
            )
    return out


class CodedFrame:
    """Rows as floats in signature order, strings as their code in the model's category list.

    Unseen and missing strings become NaN, as LightGBM and XGBoost treat missing codes.
    """

    def __init__(self, signature: ModelSignature, categories: Mapping[str, Sequence[str]]) -> None:
        self._signature = signature
        self._lookups = [
            {value: float(code) for code, value in enumerate(categories[c.name])}
            if c.type == "string"
            else None
            for c in signature.inputs
        ]

    def __call__(self, features: Any) -> np.ndarray:
        frame = _require_frame(features, self._signature)
        out = np.empty((len(frame), len(self._lookups)))
        columns = _columns(frame, self._signature)
        for j, (values, lookup) in enumerate(zip(columns, self._lookups, strict=True)):
            if lookup is None:
                out[:, j] = values
            else:
                out[:, j] = [lookup.get(value, np.nan) for value in string_values(values)]
        return out


class OneHotFrame:
    """Rows as a ColumnTransformer of one OneHotEncoder plus numeric passthrough would give."""

    def __init__(
        self,
        signature: ModelSignature,
        encoded: Sequence[tuple[str, Sequence[Any]]],
        passthrough: Sequence[str],
    ) -> None:
        self._signature = signature
        self._encoded: list[tuple[str, dict[Any, int]]] = []
        offset = 0
        for name, categories in encoded:
            keys = [None if _is_missing(v) else v for v in categories]
            self._encoded.append((name, {v: offset + i for i, v in enumerate(keys)}))
            offset += len(categories)
        self._passthrough = [(name, offset + i) for i, name in enumerate(passthrough)]
        self.width = offset + len(passthrough)

    def __call__(self, features: Any) -> np.ndarray:
        frame = _require_frame(features, self._signature)
        names = self._signature.input_names
        columns = dict(zip(names, _columns(frame, self._signature), strict=True))
        out = np.zeros((len(frame), self.width))
        for name, lookup in self._encoded:
            for row, value in enumerate(string_values(columns[name])):
                position = lookup.get(value)
                if position is not None:
                    out[row, position] = 1.0
        for name, position in self._passthrough:
            out[:, position] = columns[name]
        return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def compile_one_hot(encoder: Any, signature: ModelSignature) -> OneHotFrame | None:
    """An OneHotFrame for a fitted ColumnTransformer of Shipyard's shape, else None."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    if not isinstance(encoder, ColumnTransformer) or len(encoder.transformers_) not in (1, 2):
        return None
    _, onehot, strings = encoder.transformers_[0]
    _, remainder, rest = (*encoder.transformers_, ("remainder", "passthrough", []))[1]
    names = signature.input_names
    identity = remainder == "passthrough" or (
        isinstance(remainder, FunctionTransformer) and remainder.func is None
    )
    if not (
        isinstance(onehot, OneHotEncoder)
        and identity
        and onehot.handle_unknown == "ignore"
        and onehot.drop_idx_ is None
        and not getattr(onehot, "_infrequent_enabled", False)
        and list(strings) == [c.name for c in signature.inputs if c.type == "string"]
    ):
        return None
    passthrough = [names[int(i)] if isinstance(i, int | np.integer) else str(i) for i in rest]
    if any(name in strings or name not in names for name in passthrough):
        return None
    encoded = [(name, list(cats)) for name, cats in zip(strings, onehot.categories_, strict=True)]
    return OneHotFrame(signature, encoded, passthrough)


def probe_frame(signature: ModelSignature, categories: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Rows that visit every known category, a missing value and an unseen one."""
    longest = 2 * (max([len(v) for v in categories.values()] + [1]) + 2)
    rng = np.random.default_rng(7)
    columns: dict[str, Any] = {}
    for column in signature.inputs:
        if column.type == "string":
            known = [v for v in categories.get(column.name, []) if isinstance(v, str)]
            cycle = [*known, None, "\x00unseen"]
            columns[column.name] = np.array(
                [cycle[i % len(cycle)] for i in range(longest)], dtype=object
            )
        else:
            columns[column.name] = np.where(np.arange(longest) % 2, rng.normal(size=longest), 0.0)
    return pd.DataFrame(columns)
