"""The model registry: versions, approval, aliases, lineage."""

from shipyard.flavors import MODEL_ARTIFACT, MODEL_META, VALIDATION_ARTIFACT
from shipyard.registry._artifact import refuse_pickle_based
from shipyard.registry._create import create_model, update_model
from shipyard.registry._delete import delete_version
from shipyard.registry._lineage import lineage
from shipyard.registry._service import (
    approval_history,
    check_version_code,
    code_grant,
    delete_alias,
    get_model,
    get_model_version,
    list_models,
    load_version_predictor,
    model_version_access,
    model_version_resource,
    register_in_session,
    register_model,
    resolve,
    set_alias,
    set_approval,
    version_info,
)
from shipyard.registry._store import store_saved_model
from shipyard.schemas.registry import (
    ApprovalDecision,
    LineageGraph,
    LineageNode,
    ModelInfo,
    ModelVersionInfo,
)

__all__ = [
    "MODEL_ARTIFACT",
    "MODEL_META",
    "VALIDATION_ARTIFACT",
    "ApprovalDecision",
    "LineageGraph",
    "LineageNode",
    "ModelInfo",
    "ModelVersionInfo",
    "approval_history",
    "check_version_code",
    "code_grant",
    "create_model",
    "delete_alias",
    "delete_version",
    "get_model",
    "get_model_version",
    "lineage",
    "list_models",
    "load_version_predictor",
    "model_version_access",
    "model_version_resource",
    "refuse_pickle_based",
    "register_in_session",
    "register_model",
    "resolve",
    "set_alias",
    "set_approval",
    "store_saved_model",
    "update_model",
    "version_info",
]
