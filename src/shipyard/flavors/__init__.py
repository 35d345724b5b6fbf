"""Model formats (flavors): storing fitted estimators safely and loading them as predictors.

Every flavor stores a format that loads without running stored code: skops
with an explicit trusted-type list (sklearn), LightGBM model text, XGBoost
JSON, ONNX. Code models and PyTorch models are bundles whose code runs only when
it was registered by a principal allowed ``registry:RegisterCode`` (``CodeGrant``).
Loading verifies the recorded digest first, then the structure. ``_layout`` owns
where a model lives inside a run; ``save_for_logging`` serializes any supported
model on the client for ``log_model``.

The signature types import light; the format machinery (scikit-learn, skops,
LightGBM, XGBoost) loads on first use, so the CLI and control plane start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shipyard.flavors._artifact import (
    PICKLE_ALTERNATIVE,
    PICKLE_SUFFIXES,
    artifact_digest,
    refuse_pickle,
)
from shipyard.flavors._base import (
    ColumnSpec,
    ColumnType,
    ModelSignature,
    Prediction,
    Predictor,
    Task,
)
from shipyard.flavors._bundle import CODE_FLAVORS, CodeGrant, open_bundle, parse_manifest
from shipyard.flavors._layout import (
    ARTIFACTS_PREFIX,
    CODE_PREFIX,
    MODEL_ARTIFACT,
    MODEL_DIR,
    MODEL_META,
    VALIDATION_ARTIFACT,
    ModelMeta,
    SavedModel,
    ValidationRows,
    bundle_path,
)
from shipyard.flavors._signature_check import (
    Conformance,
    accepts,
    batch_conformance,
    check_conforms,
    conformance,
    schema_kinds,
)

if TYPE_CHECKING:
    from shipyard.flavors._formats import (
        FLAVORS,
        SUPPORTED_OBJECTIVES,
        flavor_of,
        load_predictor,
        save_model,
    )
    from shipyard.flavors._logging import CodeModel, save_for_logging
    from shipyard.flavors._safe_files import ModelArtifacts, check_safe_artifact
    from shipyard.flavors._sklearn_trust import TRUSTED_TYPES

_LAZY = {
    "FLAVORS": "shipyard.flavors._formats",
    "SUPPORTED_OBJECTIVES": "shipyard.flavors._formats",
    "flavor_of": "shipyard.flavors._formats",
    "load_predictor": "shipyard.flavors._formats",
    "save_model": "shipyard.flavors._formats",
    "TRUSTED_TYPES": "shipyard.flavors._sklearn_trust",
    "CodeModel": "shipyard.flavors._logging",
    "save_for_logging": "shipyard.flavors._logging",
    "ModelArtifacts": "shipyard.flavors._safe_files",
    "check_safe_artifact": "shipyard.flavors._safe_files",
}

__all__ = [
    "ARTIFACTS_PREFIX",
    "CODE_FLAVORS",
    "CODE_PREFIX",
    "FLAVORS",
    "MODEL_ARTIFACT",
    "MODEL_DIR",
    "MODEL_META",
    "PICKLE_ALTERNATIVE",
    "PICKLE_SUFFIXES",
    "SUPPORTED_OBJECTIVES",
    "TRUSTED_TYPES",
    "VALIDATION_ARTIFACT",
    "CodeGrant",
    "CodeModel",
    "ColumnSpec",
    "ColumnType",
    "Conformance",
    "ModelArtifacts",
    "ModelMeta",
    "ModelSignature",
    "Prediction",
    "Predictor",
    "SavedModel",
    "Task",
    "ValidationRows",
    "accepts",
    "artifact_digest",
    "batch_conformance",
    "bundle_path",
    "check_conforms",
    "check_safe_artifact",
    "conformance",
    "flavor_of",
    "load_predictor",
    "open_bundle",
    "parse_manifest",
    "refuse_pickle",
    "save_for_logging",
    "save_model",
    "schema_kinds",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'shipyard.flavors' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
