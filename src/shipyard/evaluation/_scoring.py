"""Score a dataset version with a model in record batches: labels, predictions, probabilities.

Only the signature's inputs and the target column are read, a batch at a time, so the
data never sits in memory whole; the per-row outputs (a few numbers a row) are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.batch._plan import check_input_schema
from shipyard.datasets import iter_version_batches
from shipyard.errors import InvalidInput
from shipyard.flavors import Predictor
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t

BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Scored:
    """Labels and outputs of every row; classes encoded as indices into ``classes``."""

    y_true: np.ndarray
    y_pred: np.ndarray
    probabilities: np.ndarray | None
    classes: list[Any] | None


def _features(predictor: Predictor, batch: pa.RecordBatch) -> np.ndarray | pd.DataFrame:
    names = predictor.signature.input_names
    if not predictor.accepts_ndarray:
        return batch.select(names).to_pandas()
    matrix = np.empty((batch.num_rows, len(names)))
    for j, name in enumerate(names):
        matrix[:, j] = pc.cast(batch.column(name), pa.float64()).to_numpy(zero_copy_only=False)
    return matrix


def check_labelled(data_ref: str, row: t.DatasetVersion, predictor: Predictor) -> None:
    """The dataset holds the model's inputs and its target column; InvalidInput otherwise."""
    target = predictor.signature.target
    columns = [c["name"] for c in row.schema]
    if target not in columns:
        raise InvalidInput(
            f"dataset version {data_ref} has no column {target!r}, the model's target "
            f"(columns: {', '.join(columns)})",
            field="data",
        )
    try:
        check_input_schema(row.schema, predictor.signature)
    except InvalidInput as error:
        raise InvalidInput(error.message, field="data") from None
    if row.rows == 0:
        raise InvalidInput(f"dataset version {data_ref} has no rows", field="data")


def score_version(
    platform: Platform, data_ref: str, row: t.DatasetVersion, predictor: Predictor
) -> Scored:
    """Every row's label and the model's outputs, read and scored batch by batch."""
    signature = predictor.signature
    columns = [*signature.input_names, signature.target]
    labels: list[np.ndarray] = []
    outputs: list[np.ndarray] = []
    probabilities: list[np.ndarray] = []
    for batch in iter_version_batches(
        platform, row, list(dict.fromkeys(columns)), batch_size=BATCH_ROWS
    ):
        target = batch.column(signature.target)
        if target.null_count:
            raise InvalidInput(
                f"the target column {signature.target!r} of {data_ref} has "
                f"{target.null_count} empty labels in a batch; evaluation needs every label",
                field="data",
            )
        prediction = predictor.predict(_features(predictor, batch))
        labels.append(target.to_numpy(zero_copy_only=False))
        outputs.append(np.asarray(prediction.predictions))
        if prediction.probabilities is not None:
            probabilities.append(np.asarray(prediction.probabilities, dtype=np.float64))
    y_true, y_pred = np.concatenate(labels), np.concatenate(outputs)
    if signature.task == "regression":
        return Scored(y_true.astype(np.float64), y_pred.astype(np.float64).ravel(), None, None)
    probs = np.concatenate(probabilities) if len(probabilities) == len(outputs) else None
    return _encode(data_ref, signature.classes, y_true, y_pred, probs)


def _encode(
    data_ref: str,
    classes: list[Any] | None,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    probabilities: np.ndarray | None,
) -> Scored:
    known = list(classes) if classes else sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    true_codes = np.asarray(pd.Categorical(y_true, categories=known).codes, dtype=np.int64)
    if (true_codes < 0).any():
        unknown = y_true[true_codes < 0][0]
        raise InvalidInput(
            f"{data_ref} holds the label {unknown!r}, which the model does not know "
            f"(classes: {', '.join(map(str, known))})",
            field="data",
        )
    pred_codes = np.asarray(pd.Categorical(y_pred, categories=known).codes, dtype=np.int64)
    if probabilities is not None and probabilities.shape[1] != len(known):
        probabilities = None
    return Scored(true_codes, pred_codes, probabilities, known)
