"""REST routes built from the operation catalog: arguments in, service call, JSON out."""

from __future__ import annotations

import os
import tempfile
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from shipyard.api._json import JSONResponse
from shipyard.errors import InvalidInput, PayloadTooLarge
from shipyard.operations import OPERATIONS, Operation
from shipyard.security import RequestContext

ContextFactory = Callable[[Request], Awaitable[RequestContext]]


def to_jsonable(value: Any) -> Any:
    """Plain JSON data from a service result (models, lists of models, dicts)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


async def _spool_limited(request: Request, limit: int, directory: Path) -> Path:
    """Stream the body into a temporary file under ``directory``, within ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"body is larger than the limit of {limit} bytes", field="body"
                    )
                sink.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _takes_file(op: Operation) -> bool:
    """Whether the operation's raw body may arrive as a spooled file (``bytes | Path``)."""
    return op.raw_body is not None and Path in typing.get_args(op.params[op.raw_body][0])


def _make_endpoint(
    op: Operation, context: ContextFactory, max_body: int, max_upload: int
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        ctx = await context(request)
        arguments: dict[str, Any] = dict(request.path_params)
        for name in op.query_params:
            if name in request.query_params:
                arguments[name] = request.query_params[name]
        unknown = set(request.query_params) - set(op.query_params)
        if unknown:
            raise InvalidInput("unknown query parameter", field=sorted(unknown)[0])
        spooled: Path | None = None
        if op.raw_body and _takes_file(op):
            spooled = await _spool_limited(request, max_upload, ctx.platform.settings.home / "tmp")
            arguments[op.raw_body] = spooled
        elif op.raw_body:
            arguments[op.raw_body] = await _read_limited(request, max_upload)
        elif op.body_params:
            raw = await _read_limited(request, max_body)
            try:
                body = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError as exc:
                raise InvalidInput(f"malformed JSON: {exc}", field="body") from None
            if not isinstance(body, dict):
                raise InvalidInput("must be a JSON object", field="body")
            arguments.update(body)
        try:
            result = await run_in_threadpool(op.invoke, ctx, arguments)
        finally:
            if spooled is not None:
                spooled.unlink(missing_ok=True)
        if isinstance(result, bytes):
            return Response(result, media_type="application/octet-stream")
        return JSONResponse(to_jsonable(result), status_code=op.status_code)

    endpoint.__name__ = op.name.replace(".", "_")
    return endpoint


def _openapi_extra(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    template = "#/components/schemas/{model}"

    def schema(annotation: Any) -> dict[str, Any]:
        result: dict[str, Any] = TypeAdapter(annotation).json_schema(ref_template=template)
        components.update(result.pop("$defs", {}))
        return result

    parameters = [
        {"name": n, "in": "path", "required": True, "schema": schema(op.params[n][0])}
        for n in op.path_params
    ] + [
        {
            "name": n,
            "in": "query",
            "required": op.params[n][1] is ...,
            "schema": schema(op.params[n][0]),
        }
        for n in op.query_params
    ]
    extra: dict[str, Any] = {"parameters": parameters}
    if op.raw_body:
        extra["requestBody"] = {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    elif op.body_params:
        properties = {n: schema(op.params[n][0]) for n in op.body_params}
        required = [n for n in op.body_params if op.params[n][1] is ...]
        extra["requestBody"] = {
            "required": bool(required),
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": properties, "required": required}
                }
            },
        }
    return extra


def add_operation_routes(
    app: FastAPI, context: ContextFactory, *, max_body: int, max_upload: int
) -> dict[str, Any]:
    """Mount every catalog operation; returns the schema components they reference."""
    components: dict[str, Any] = {}
    for op in OPERATIONS:
        returns = op.handler.__annotations__.get("return")
        app.add_api_route(
            op.path,
            _make_endpoint(op, context, max_body, max_upload),
            methods=[op.method],
            name=op.name,
            summary=(op.handler.__doc__ or op.name).strip().splitlines()[0],
            status_code=op.status_code,
            response_model=None,
            responses={op.status_code: {"description": f"returns {returns}"}},
            openapi_extra=_openapi_extra(op, components) | {"x-shipyard-action": op.info.action},
            tags=[op.name.split(".")[0]],
        )
    return components
