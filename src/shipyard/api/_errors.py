"""The one place Shipyard errors become HTTP status codes and JSON bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from shipyard import errors
from shipyard.api._json import JSONResponse

_log = logging.getLogger("shipyard.api")

STATUS: tuple[tuple[type[errors.ShipyardError], int], ...] = (
    (errors.PayloadTooLarge, 413),
    (errors.InvalidInput, 400),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Unauthenticated, 401),
    (errors.AccessDenied, 403),
    (errors.UnsafeArtifact, 422),
    (errors.IntegrityError, 500),
    (errors.StorageError, 503),
    (errors.JobFailed, 500),
)


def status_for(error: errors.ShipyardError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 500)


def error_body(kind: str, message: str, field: str | None = None) -> dict[str, object]:
    return {"error": {"type": kind, "message": message, "field": field}}


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to one JSON shape: ``{"error": {"type", "message", "field"}}``."""

    @app.exception_handler(errors.ShipyardError)
    async def _shipyard(_request: Request, exc: errors.ShipyardError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": "Bearer"} if isinstance(exc, errors.Unauthenticated) else None
        )
        return JSONResponse(
            error_body(type(exc).__name__, exc.message, exc.field),
            status_code=status_for(exc),
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return JSONResponse(
            error_body("InvalidInput", first["msg"], field or None), status_code=400
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
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
