"""Signatures inferred from an input example (pandas, Arrow, numpy) and the fitted model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ColumnSpec, ModelSignature, Task, arrow_column_type

MAX_EXAMPLE_ROWS = 100


def example_table(example: Any, names: Sequence[str] | None = None) -> pa.Table:
    """An input example as an Arrow table (numpy columns named ``names`` or ``x0..``)."""
    if isinstance(example, pa.RecordBatch):
        return pa.Table.from_batches([example])
    if isinstance(example, pa.Table):
        return example
    if isinstance(example, pd.DataFrame):
        return pa.Table.from_pandas(example, preserve_index=False)
    if isinstance(example, dict):
        return pa.table({str(k): pa.array(v) for k, v in example.items()})
    if isinstance(example, np.ndarray):
        matrix = example.reshape(1, -1) if example.ndim == 1 else example
        if matrix.ndim != 2:
            raise InvalidInput("must be a 2-D array of rows", field="input_example")
        columns = list(names) if names is not None else [f"x{i}" for i in range(matrix.shape[1])]
        if len(columns) != matrix.shape[1]:
            raise InvalidInput(
                f"has {matrix.shape[1]} columns, the model takes {len(columns)}",
                field="input_example",
            )
        return pa.table({c: matrix[:, j] for j, c in enumerate(columns)})
    raise InvalidInput(
        "must be a pandas DataFrame, an Arrow table or a numpy array, "
        f"not {type(example).__name__}",
        field="input_example",
    )


def infer_inputs(table: pa.Table) -> list[ColumnSpec]:
    """The signature inputs of an example table; InvalidInput naming an unsupported column."""
    inputs = []
    for column in table.schema:
        kind = arrow_column_type(column.type)
        if kind is None:
            raise InvalidInput(
                f"column {column.name!r} has type {column.type}; a model input is a number, "
                "a boolean or a string",
                field="input_example",
            )
        inputs.append(ColumnSpec(name=column.name, type=kind))
    return inputs


def model_feature_names(model: Any) -> list[str] | None:
    """The column names a fitted model remembers, if it does."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "feature_name_", None)
    if names is None and hasattr(model, "feature_name") and callable(model.feature_name):
        names = model.feature_name()
    if names is None:
        names = getattr(model, "feature_names", None)
    return [str(n) for n in names] if names is not None else None


def infer_task(model: Any) -> tuple[Task, list[Any] | None] | None:
    """Classification (with classes) or regression, from a fitted model, when it says."""
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return "classification", np.asarray(classes).tolist()
    booster = _booster_task(model)
    if booster is not None:
        return booster
    estimator_type = getattr(model, "_estimator_type", None)
    if estimator_type == "regressor":
        return "regression", None
    if hasattr(model, "get_params"):  # a scikit-learn(-compatible) estimator
        from sklearn.base import is_regressor

        if is_regressor(model):
            return "regression", None
    return None


def _booster_task(model: Any) -> tuple[Task, list[Any] | None] | None:
    """The task of a bare LightGBM or XGBoost Booster, from its objective."""
    library = type(model).__module__.split(".", 1)[0]
    if library == "lightgbm" and type(model).__name__ == "Booster":
        objective = str(model.dump_model(num_iteration=0).get("objective", ""))
        count = int(model.num_model_per_iteration())
    elif library == "xgboost" and type(model).__name__ == "Booster":
        import json

        learner = json.loads(model.save_config())["learner"]
        objective = str(learner["objective"]["name"])
        count = int(learner["learner_model_param"].get("num_class", "0") or 0)
    else:
        return None
    if objective.startswith(("binary", "multi")):
        return "classification", list(range(max(count, 2)))
    return "regression", None


def build_signature(
    model: Any,
    *,
    input_example: Any,
    signature: ModelSignature | dict[str, Any] | None,
    task: Task | None,
    classes: Sequence[Any] | None,
    target: str,
) -> ModelSignature:
    """The given signature, or one from the example's columns and the model's task."""
    if signature is not None:
        return ModelSignature.model_validate(signature)
    if input_example is None:
        raise InvalidInput(
            "give an input_example (or a signature) so the model's inputs are known",
            field="input_example",
        )
    inputs = infer_inputs(example_table(input_example, model_feature_names(model)))
    inferred = infer_task(model)
    if task is None:
        if inferred is None:
            raise InvalidInput(
                "cannot tell from the model; pass task='classification' or 'regression'",
                field="task",
            )
        task = inferred[0]
    if task == "classification" and classes is None:
        if inferred is None or inferred[1] is None:
            raise InvalidInput("name the classifier's classes (classes=[...])", field="classes")
        classes = inferred[1]
    return ModelSignature(
        inputs=inputs,
        task=task,
        target=target,
        classes=list(classes) if task == "classification" and classes is not None else None,
    )


def example_frame(input_example: Any, signature: ModelSignature) -> pd.DataFrame:
    """At most ``MAX_EXAMPLE_ROWS`` rows of the example as a DataFrame of signature columns."""
    table = example_table(input_example, signature.input_names)
    return table.slice(0, MAX_EXAMPLE_ROWS).to_pandas()[signature.input_names]
