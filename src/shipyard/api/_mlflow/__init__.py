"""MLflow's tracking and registry REST API, translated to Shipyard's catalog operations."""

from shipyard.api._mlflow._artifacts import ROUTES as _ARTIFACT_ROUTES
from shipyard.api._mlflow._errors import MLFLOW_PATHS
from shipyard.api._mlflow._experiments import ROUTES as _EXPERIMENT_ROUTES
from shipyard.api._mlflow._logged_models import ROUTES as _LOGGED_MODEL_ROUTES
from shipyard.api._mlflow._registry import ROUTES as _REGISTRY_ROUTES
from shipyard.api._mlflow._routes import MlflowRoute, add_mlflow_routes
from shipyard.api._mlflow._runs import ROUTES as _RUN_ROUTES

MLFLOW_ROUTES: tuple[MlflowRoute, ...] = (
    _EXPERIMENT_ROUTES + _RUN_ROUTES + _LOGGED_MODEL_ROUTES + _ARTIFACT_ROUTES + _REGISTRY_ROUTES
)

__all__ = ["MLFLOW_PATHS", "MLFLOW_ROUTES", "MlflowRoute", "add_mlflow_routes"]
