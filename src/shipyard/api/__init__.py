"""The REST control plane."""

from shipyard.api._app import PUBLIC_PATHS, create_app
from shipyard.api._errors import status_for
from shipyard.api._mlflow import MLFLOW_PATHS, MLFLOW_ROUTES
from shipyard.schemas.jsonable import to_jsonable

__all__ = [
    "MLFLOW_PATHS",
    "MLFLOW_ROUTES",
    "PUBLIC_PATHS",
    "create_app",
    "status_for",
    "to_jsonable",
]
