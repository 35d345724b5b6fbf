"""What every model format (flavor) provides: a signature, and a predictor from stored bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

ColumnType = Literal["integer", "float", "string", "boolean", "timestamp"]
"""``timestamp`` inputs reach models as float seconds since the Unix epoch (UTC)."""


def arrow_column_type(arrow_type: pa.DataType) -> ColumnType | None:
    """The signature type of an Arrow column type (dictionaries by their values), or None."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    if pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        return "timestamp"
    return None


Task = Literal["classification", "regression"]


class ColumnSpec(BaseModel):
    """One input column a model expects."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: ColumnType


class ModelSignature(BaseModel):
    """The inputs a model takes, in order, and what it returns."""

    model_config = ConfigDict(frozen=True)

    inputs: list[ColumnSpec]
    task: Task
    target: str
    classes: list[Any] | None = None

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    @property
    def all_numeric(self) -> bool:
        return all(c.type != "string" for c in self.inputs)


@dataclass(frozen=True)
class Prediction:
    """Model output for a batch: labels or values, and class probabilities when there are any."""

    predictions: np.ndarray
    probabilities: np.ndarray | None = None


class Predictor(ABC):
    """A loaded model that answers batches of rows in signature order.

    ``accepts_ndarray`` is true when the model was fitted on a plain float
    matrix in signature order, so callers may skip pandas entirely.
    """

    flavor: ClassVar[str]
    params: ClassVar[frozenset[str]] = frozenset()
    """Inference parameters ``predict_with`` applies (MLflow's ``params``); others are ignored."""

    def __init__(self, model: Any, signature: ModelSignature) -> None:
        self.model = model
        self.signature = signature
        self._accepts_ndarray = signature.all_numeric
        self.known_categories: dict[str, list[Any]] = {}

    @property
    def accepts_ndarray(self) -> bool:
        return self._accepts_ndarray

    @property
    def fast_path(self) -> bool:
        """True when rows skip the library's per-call overhead through a verified lean path."""
        return False

    @abstractmethod
    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        """Predict for rows given as a float matrix (when ``accepts_ndarray``) or a DataFrame."""

    def predict_with(
        self, features: np.ndarray | pd.DataFrame, params: dict[str, Any]
    ) -> Prediction:
        """``predict`` with inference parameters, each one named in ``params``."""
        return self.predict(features)
