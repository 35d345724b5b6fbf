"""Model formats (flavors): storing fitted estimators safely and loading them as predictors.

Every flavor stores a format that loads without running stored code: skops
with an explicit trusted-type list (sklearn), LightGBM model text, XGBoost
JSON. Loading verifies the recorded digest first, then the structure.

The signature types import light; the format machinery (scikit-learn, skops,
LightGBM, XGBoost) loads on first use, so the CLI and control plane start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shipyard.flavors._artifact import artifact_digest
from shipyard.flavors._base import (
    ColumnSpec,
    ColumnType,
    ModelSignature,
    Prediction,
    Predictor,
    Task,
)

if TYPE_CHECKING:
    from shipyard.flavors._formats import (
        FLAVORS,
        SUPPORTED_OBJECTIVES,
        flavor_of,
        load_predictor,
        save_model,
    )
    from shipyard.flavors._sklearn_trust import TRUSTED_TYPES

_LAZY = {
    "FLAVORS": "shipyard.flavors._formats",
    "SUPPORTED_OBJECTIVES": "shipyard.flavors._formats",
    "flavor_of": "shipyard.flavors._formats",
    "load_predictor": "shipyard.flavors._formats",
    "save_model": "shipyard.flavors._formats",
    "TRUSTED_TYPES": "shipyard.flavors._sklearn_trust",
}

__all__ = [
    "FLAVORS",
    "SUPPORTED_OBJECTIVES",
    "TRUSTED_TYPES",
    "ColumnSpec",
    "ColumnType",
    "ModelSignature",
    "Prediction",
    "Predictor",
    "Task",
    "artifact_digest",
    "flavor_of",
    "load_predictor",
    "save_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.flavors' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
