"""Model formats (flavors): storing fitted estimators safely and loading them as predictors.

Every flavor stores a format that loads without running stored code: skops
with an explicit trusted-type list (sklearn), LightGBM model text, XGBoost
JSON. Loading verifies the recorded digest first, then the structure.
"""

from shipyard.flavors._artifact import artifact_digest
from shipyard.flavors._base import (
    ColumnSpec,
    ColumnType,
    ModelSignature,
    Prediction,
    Predictor,
    Task,
)
from shipyard.flavors._formats import (
    FLAVORS,
    SUPPORTED_OBJECTIVES,
    flavor_of,
    load_predictor,
    save_model,
)
from shipyard.flavors._sklearn_trust import TRUSTED_TYPES

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
