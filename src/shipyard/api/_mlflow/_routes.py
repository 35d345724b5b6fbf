"""MLflow's REST routes on the control plane: a table of routes and one endpoint shape.

Each route names the catalog operation it calls first; its handler turns MLflow's JSON
into arguments of catalog operations (called through ``call``, so they are validated
and authorized exactly as over Shipyard's own API) and their results into MLflow's JSON.
A request that cannot be read, or names an experiment id that does not exist, is
reported only to a principal that may attempt the route's action, as ``Operation.invoke``
does for malformed arguments. Errors leave in MLflow's error document.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard.api._json import JSONResponse
from shipyard.api._mlflow._errors import HTTP_STATUS, error_code, error_document
from shipyard.api._mlflow._request import MlflowRequest
from shipyard.api._routes import _read_limited
from shipyard.errors import InvalidInput, NotFound, ShipyardError, Unauthenticated
from shipyard.operations import BY_NAME
from shipyard.security import RequestContext

_log = logging.getLogger("shipyard.api.mlflow")

Json = dict[str, Any]
Handler = Callable[[RequestContext, MlflowRequest], "Json | Response"]
ContextFactory = Callable[[Request], Awaitable[RequestContext]]
PREFIX = "/api/2.0/mlflow"
ARTIFACTS_PREFIX = "/api/2.0/mlflow-artifacts"


@dataclass(frozen=True)
class MlflowRoute:
    """One MLflow route: its method and path, its handler, the operation it calls first.

    ``early`` maps the path's parameters to that operation's arguments for a route whose
    body is raw bytes: the operation's primary access is checked before the body is read.
    ``conflict`` is the MLflow code a Conflict from this route means.
    """

    method: str
    path: str
    handler: Handler
    operation: str
    conflict: str = "INVALID_PARAMETER_VALUE"
    early: Callable[[dict[str, str]], dict[str, Any]] | None = None


def call(ctx: RequestContext, operation: str, **arguments: Any) -> Any:
    """Invoke a catalog operation: validated and authorized as on every other interface."""
    return BY_NAME[operation].invoke(ctx, arguments)


def _query_fields(request: Request) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields


async def _json_fields(request: Request, max_body: int, idle: float) -> dict[str, Any]:
    raw = await _read_limited(request, max_body, idle)
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("must be a JSON object", field="body")
    return body


def error_response(error: ShipyardError, conflict: str = "INVALID_PARAMETER_VALUE") -> JSONResponse:
    code = error_code(error, conflict=conflict)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
    return JSONResponse(
        error_document(code, str(error)), status_code=HTTP_STATUS[code], headers=headers
    )


def _make_endpoint(
    route: MlflowRoute, context: ContextFactory, max_body: int, max_upload: int
) -> Callable[[Request], Awaitable[Response]]:
    action = BY_NAME[route.operation].info.action

    async def endpoint(request: Request) -> Response:
        ctx: RequestContext | None = None
        try:
            ctx = await context(request)
            idle = ctx.platform.settings.upload_idle_timeout_seconds
            fields = _query_fields(request)
            content = b""
            if route.early is not None:
                arguments = route.early(dict(request.path_params))
                info = BY_NAME[route.operation].info
                await run_in_threadpool(info.authorize_primary, ctx, arguments)
                content = await _read_limited(request, max_upload, idle)
            elif route.method in ("POST", "PATCH", "PUT"):
                fields |= await _json_fields(request, max_body, idle)
            mlflow_request = MlflowRequest(fields, dict(request.path_params), content)
            result = await run_in_threadpool(route.handler, ctx, mlflow_request)
        except (InvalidInput, NotFound) as error:
            if ctx is not None:
                try:
                    await run_in_threadpool(ctx.authorize_attempt, action)
                except ShipyardError as denied:
                    return error_response(denied)
            return error_response(error, route.conflict)
        except ShipyardError as error:
            return error_response(error, route.conflict)
        except Exception:
            request_id = request.headers.get("x-request-id", "")
            _log.exception("unhandled error in %s %s", request.method, request.url.path)
            return JSONResponse(
                error_document("INTERNAL_ERROR", f"internal error (request {request_id})"),
                status_code=500,
            )
        if isinstance(result, Response):
            return result
        return JSONResponse(result)

    endpoint.__name__ = "mlflow_" + route.operation.replace(".", "_")
    return endpoint


def add_mlflow_routes(
    app: FastAPI,
    routes: tuple[MlflowRoute, ...],
    context: ContextFactory,
    *,
    max_body: int,
    max_upload: int,
) -> None:
    """Mount MLflow's routes (outside Shipyard's OpenAPI document, which they do not follow)."""
    for route in routes:
        app.add_api_route(
            route.path,
            _make_endpoint(route, context, max_body, max_upload),
            methods=[route.method],
            name=f"mlflow:{route.method} {route.path}",
            include_in_schema=False,
        )
