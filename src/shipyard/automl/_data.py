"""The table AutoML searches on, prepared once: in content order, as each family takes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.flavors import ModelSignature, Task
from shipyard.training._data import TrainingData, prepare_data
from shipyard.training._preprocess import column_roles, preprocessing_steps
from shipyard.training._preprocessing_spec import PreprocessingSpec
from shipyard.training._split import content_order


@dataclass(frozen=True)
class SearchData:
    """Features for native families (categories as pandas categoricals) and for scikit-learn
    ones (strings for their encoder), the target, and the preprocessing prototype."""

    table: pa.Table
    native: TrainingData
    encoded: TrainingData
    steps: list[tuple[str, Any]]
    task: Task

    @property
    def y(self) -> np.ndarray:
        return self.native.target

    @property
    def classes(self) -> np.ndarray | None:
        return self.native.classes

    @property
    def signature(self) -> ModelSignature:
        return self.native.signature

    @property
    def rows(self) -> int:
        return len(self.native.target)

    def features(self, native: bool) -> TrainingData:
        return self.native if native else self.encoded


def prepare(table: pa.Table, target: str, task: Task) -> SearchData:
    """Put rows in content order (the same rows in any stored order give the same search)
    and build both views; InvalidInput names the field for a bad target or columns."""
    table = table.take(content_order(table, table.column_names, None))
    native = prepare_data(table, target, None, task, categorical=True)
    encoded = prepare_data(table, target, None, task, categorical=False)
    frame = encoded.features if not isinstance(encoded.features, np.ndarray) else None
    spec = PreprocessingSpec()
    roles = column_roles(encoded.signature, spec, frame)
    return SearchData(
        table, native, encoded, preprocessing_steps(encoded.signature, spec, roles), task
    )
