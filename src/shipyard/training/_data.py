"""From an Arrow table to model inputs: checked target, features in signature order, signature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.errors import InvalidInput
from shipyard.flavors import ColumnSpec, ColumnType, ModelSignature, Task
from shipyard.flavors._arrays import categorical as as_categorical
from shipyard.flavors._arrays import string_values
from shipyard.flavors._base import arrow_column_type
from shipyard.flavors._timestamps import arrow_epoch_seconds

_SUPPORTED = "integers, floats, booleans, strings, timestamps and dates"


@dataclass(frozen=True)
class TrainingData:
    """Features (a float matrix when all are numeric, else a DataFrame), target and signature."""

    features: np.ndarray | pd.DataFrame
    target: np.ndarray
    signature: ModelSignature
    classes: np.ndarray | None

    def rows(self, index: np.ndarray) -> np.ndarray | pd.DataFrame:
        if isinstance(self.features, pd.DataFrame):
            return self.features.iloc[index].reset_index(drop=True)
        return self.features[index]


def prepare_data(
    table: pa.Table,
    target: str,
    features: Sequence[str] | None,
    task: Task,
    *,
    categorical: bool,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> TrainingData:
    """Check ``table`` against the spec's columns and build the training inputs.

    String columns become pandas categoricals when ``categorical`` (LightGBM, XGBoost),
    else object columns for an encoder; timestamps become float epoch seconds. A column
    in ``categories`` (a parent model's) keeps those codes first, new values after them.
    """
    if target not in table.column_names:
        raise InvalidInput(
            f"column {target!r} is not in the dataset (columns: {_preview(table.column_names)})",
            field="target",
        )
    names = (
        list(features) if features is not None else [c for c in table.column_names if c != target]
    )
    absent = [c for c in names if c not in table.column_names]
    if absent:
        raise InvalidInput(f"columns {absent} are not in the dataset", field="features")
    if not names:
        raise InvalidInput(
            "the dataset has no feature columns besides the target", field="features"
        )
    if table.num_rows == 0:
        raise InvalidInput("the dataset has no rows", field="dataset")
    inputs = [ColumnSpec(name=n, type=_column_type(table.schema.field(n).type, n)) for n in names]
    y, classes = _target(table.column(target), target, task)
    signature = ModelSignature(
        inputs=inputs,
        task=task,
        target=target,
        classes=None if classes is None else classes.tolist(),
    )
    features_ = _features(table, inputs, categorical, categories or {})
    return TrainingData(features_, y, signature, classes)


def _preview(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:10])
    return shown + (f", ... {len(names) - 10} more" if len(names) > 10 else "")


def _column_type(arrow_type: pa.DataType, name: str) -> ColumnType:
    kind = arrow_column_type(arrow_type)
    if kind is not None:
        return kind
    raise InvalidInput(
        f"column {name!r} has type {arrow_type}; features must be {_SUPPORTED}", field="features"
    )


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    """Numbers, booleans and timestamps (as epoch seconds) as float64, nulls as NaN."""
    return arrow_epoch_seconds(column)


def _features(
    table: pa.Table,
    inputs: list[ColumnSpec],
    categorical: bool,
    categories: Mapping[str, Sequence[str]],
) -> np.ndarray | pd.DataFrame:
    if all(spec.type != "string" for spec in inputs):
        return np.ascontiguousarray(
            np.column_stack([_floats(table.column(s.name)) for s in inputs])
        )
    columns: dict[str, object] = {}
    for spec in inputs:
        column = _plain(table.column(spec.name))
        if spec.type == "string":
            text = string_values(column.to_numpy(zero_copy_only=False))
            known = list(categories.get(spec.name, ()))
            seen = known + sorted({v for v in text if v is not None} - set(known))
            columns[spec.name] = as_categorical(text, seen) if categorical else text
        else:
            columns[spec.name] = _floats(column)
    return pd.DataFrame(columns)


def _target(column: pa.ChunkedArray, name: str, task: Task) -> tuple[np.ndarray, np.ndarray | None]:
    kind = _column_type(column.type, name) if column.null_count < len(column) else "float"
    missing = column.null_count
    if kind == "float":
        missing += int(pc.sum(pc.is_nan(column.cast(pa.float64()))).as_py() or 0)
    if missing:
        raise InvalidInput(f"target column {name!r} has {missing} null values", field="target")
    if task == "regression":
        if kind == "string":
            raise InvalidInput(
                f"regression needs a numeric target; column {name!r} holds strings", field="target"
            )
        return _floats(column), None
    y = _labels(column, name, kind)
    classes = np.unique(y)
    if len(classes) < 2:
        raise InvalidInput(
            f"classification needs at least two classes; target column {name!r} has only "
            f"{classes.tolist()!r}",
            field="target",
        )
    return y, classes


def _labels(column: pa.ChunkedArray, name: str, kind: ColumnType) -> np.ndarray:
    column = _plain(column)
    if kind == "string":
        return string_values(column.to_numpy(zero_copy_only=False))
    if kind == "boolean":
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)
    if kind == "integer":
        return np.asarray(column.cast(pa.int64()).to_numpy(), dtype=np.int64)
    values = _floats(column)
    if not np.all(values == np.round(values)):
        raise InvalidInput(
            f"target column {name!r} has fractional values; use task: regression, "
            "or integer or string class labels",
            field="target",
        )
    return values
