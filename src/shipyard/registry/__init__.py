"""The model registry: versions, approval, aliases, lineage."""

from shipyard.registry._artifact import MODEL_ARTIFACT, MODEL_META
from shipyard.registry._create import create_model
from shipyard.registry._lineage import lineage
from shipyard.registry._models import (
    LineageGraph,
    LineageNode,
    ModelInfo,
    ModelVersionInfo,
)
from shipyard.registry._service import (
    delete_alias,
    get_model,
    get_model_version,
    list_models,
    load_version_predictor,
    model_version_access,
    model_version_resource,
    register_model,
    resolve,
    set_alias,
    set_approval,
    version_info,
)

__all__ = [
    "MODEL_ARTIFACT",
    "MODEL_META",
    "LineageGraph",
    "LineageNode",
    "ModelInfo",
    "ModelVersionInfo",
    "create_model",
    "delete_alias",
    "get_model",
    "get_model_version",
    "lineage",
    "list_models",
    "load_version_predictor",
    "model_version_access",
    "model_version_resource",
    "register_model",
    "resolve",
    "set_alias",
    "set_approval",
    "version_info",
]
