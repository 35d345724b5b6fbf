"""Checking a training spec completely before any data is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.training._estimators import BuiltEstimator, build_estimator
from shipyard.training._metrics import resolve_metrics

if TYPE_CHECKING:
    from shipyard.training._spec import TrainingSpec


def check_spec(spec: TrainingSpec) -> BuiltEstimator:
    """Raise InvalidInput naming the field of the first problem; return the unfitted estimator."""
    if spec.features is not None and spec.target in spec.features:
        raise InvalidInput(
            f"the target column {spec.target!r} cannot also be a feature", field="features"
        )
    resolve_metrics(spec.task, spec.metrics)
    return build_estimator(spec.estimator, spec.params, spec.task, spec.split.seed)
