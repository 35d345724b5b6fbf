"""Shipyard errors as MLflow's error document: ``{"error_code", "message"}`` and its status.

The MLflow client raises ``MlflowException`` with the ``error_code`` it reads here, so the
codes and statuses are MLflow's own (``mlflow/exceptions.py``); the message is Shipyard's,
naming the field.
"""

from __future__ import annotations

from shipyard import errors

ERROR_CODES: tuple[tuple[type[errors.ShipyardError], str], ...] = (
    (errors.InvalidInput, "INVALID_PARAMETER_VALUE"),
    (errors.NotFound, "RESOURCE_DOES_NOT_EXIST"),
    (errors.Unauthenticated, "UNAUTHENTICATED"),
    (errors.AccessDenied, "PERMISSION_DENIED"),
    (errors.UnsafeArtifact, "INVALID_PARAMETER_VALUE"),
)
"""The first class an error is an instance of decides its code; others are INTERNAL_ERROR."""

HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "INTERNAL_ERROR": 500,
}


def error_code(error: errors.ShipyardError, *, conflict: str = "INVALID_PARAMETER_VALUE") -> str:
    """MLflow's code for a Shipyard error; ``conflict`` names what a Conflict means here
    (RESOURCE_ALREADY_EXISTS for a create; else INVALID_PARAMETER_VALUE, as MLflow answers
    a changed param or a log to a finished run)."""
    if isinstance(error, errors.Conflict):
        return conflict
    for kind, code in ERROR_CODES:
        if isinstance(error, kind):
            return code
    return "INTERNAL_ERROR"


MLFLOW_PATHS = ("/api/2.0/mlflow/", "/api/2.0/mlflow-artifacts/")


def error_document(code: str, message: str) -> dict[str, str]:
    return {"error_code": code, "message": message}


def unrouted_document(method: str, path: str, status: int) -> dict[str, str]:
    """A request under MLflow's paths that no route takes (404, 405): MLflow's document,
    so the client shows what Shipyard does not implement."""
    problem = "does not implement" if status == 404 else "does not answer this method on"
    return error_document("ENDPOINT_NOT_FOUND", f"Shipyard {problem} MLflow's {method} {path}")
