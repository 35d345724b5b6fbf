"""The one place the control plane turns errors into HTTP responses.

Status codes and the body come from ``shipyard.errors`` (``http_status``,
``error_document``), which the serving data plane uses too, so both planes answer
every failure with ``{"error": {"type", "message", "field"}}``: ``type`` is the
``ShipyardError`` subclass name (``InvalidInput``, ``NotFound``, ``AccessDenied`` ...),
or ``InternalError`` for a failure nobody raised on purpose (details in the server
log, under the request id the message quotes); ``field`` names the offending input
or is null. MLflow's routes answer in MLflow's document (``api/_mlflow``), and so does a
request under MLflow's paths that no route takes.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from shipyard import errors
from shipyard.api._json import JSONResponse
from shipyard.api._mlflow._errors import MLFLOW_PATHS, unrouted_document
from shipyard.errors import error_document as error_body
from shipyard.errors import http_status as status_for

_log = logging.getLogger("shipyard.api")

__all__ = ["error_body", "install_error_handlers", "status_for"]


def _types_by_status() -> dict[int, str]:
    """The error type of a status only one class answers with (404 NotFound, 405 ...)."""
    statuses = [status for _, status in errors.HTTP_STATUS]
    return {
        status: kind.__name__ for kind, status in errors.HTTP_STATUS if statuses.count(status) == 1
    }


_BY_STATUS = _types_by_status()


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to one JSON shape: ``{"error": {"type", "message", "field"}}``."""

    @app.exception_handler(errors.ShipyardError)
    async def _shipyard(_request: Request, exc: errors.ShipyardError) -> JSONResponse:
        headers = None
        if isinstance(exc, errors.Unauthenticated):
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, (errors.TooManyRequests, errors.Overloaded)):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(errors.document_of(exc), status_code=status_for(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return JSONResponse(
            error_body("InvalidInput", first["msg"], field or None), status_code=400
        )

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if request.url.path.startswith(MLFLOW_PATHS):
            document = unrouted_document(request.method, request.url.path, exc.status_code)
            return JSONResponse(document, status_code=exc.status_code, headers=exc.headers)
        kind = _BY_STATUS.get(exc.status_code, "HTTPError")
        return JSONResponse(
            error_body(kind, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        request_id = request.headers.get("x-request-id", "")
        _log.exception("unhandled error in %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("InternalError", f"internal error (request {request_id})"),
            status_code=500,
        )
