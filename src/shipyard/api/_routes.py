"""REST routes built from the operation catalog: arguments in, service call, JSON out."""

from __future__ import annotations

import asyncio
import os
import tempfile
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard.api._json import JSONResponse
from shipyard.api._openapi import RAW_RESULTS, OperationSchemas, result_type
from shipyard.api._stream import arrow_stream_response
from shipyard.errors import InvalidInput, PayloadTooLarge
from shipyard.operations import OPERATIONS, Operation
from shipyard.schemas.jsonable import to_jsonable
from shipyard.security import RequestContext
from shipyard.store import process_scratch

ContextFactory = Callable[[Request], Awaitable[RequestContext]]


async def _chunks(request: Request, idle_timeout: float) -> AsyncIterator[bytes]:
    """The body as it arrives; a client that sends nothing for ``idle_timeout`` s is dropped."""
    stream = request.stream()
    while True:
        try:
            chunk = await asyncio.wait_for(anext(stream), idle_timeout)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise InvalidInput(
                f"no bytes arrived for {idle_timeout:g} s; the upload is dropped", field="body"
            ) from None
        yield chunk


async def _read_limited(request: Request, limit: int, idle_timeout: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in _chunks(request, idle_timeout):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


async def _spool_limited(
    request: Request, limit: int, idle_timeout: float, directory: Path
) -> Path:
    """Stream the body into a temporary file under ``directory``, within ``limit`` bytes.

    The file is removed if reading fails (too large, stalled, client gone); ``directory``
    is this process's scratch space, swept at the next start-up if the process dies.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is larger than the limit of {limit} bytes", field="body")
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink:
            size = 0
            async for chunk in _chunks(request, idle_timeout):
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
            if name in op.list_params:
                if name in request.query_params:
                    arguments[name] = request.query_params.getlist(name)
            elif name in request.query_params:
                arguments[name] = request.query_params[name]
        unknown = set(request.query_params) - set(op.query_params)
        if unknown:
            raise InvalidInput("unknown query parameter", field=sorted(unknown)[0])
        spooled: Path | None = None
        idle = ctx.platform.settings.upload_idle_timeout_seconds
        if op.raw_body:
            # decided from the method, path and key before a byte of the body is read
            await run_in_threadpool(op.info.authorize_primary, ctx, dict(arguments))
        if op.raw_body and _takes_file(op):
            scratch = process_scratch(ctx.platform.settings.home / "tmp")
            spooled = await _spool_limited(request, max_upload, idle, scratch)
            arguments[op.raw_body] = spooled
        elif op.raw_body:
            arguments[op.raw_body] = await _read_limited(request, max_upload, idle)
        elif op.body_params:
            raw = await _read_limited(request, max_body, idle)
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
            return Response(result, media_type=op.media_type)
        if isinstance(result, pa.RecordBatchReader):
            return arrow_stream_response(result, op.status_code)
        return JSONResponse(to_jsonable(result), status_code=op.status_code)

    endpoint.__name__ = op.name.replace(".", "_")
    return endpoint


def add_operation_routes(
    app: FastAPI, context: ContextFactory, *, max_body: int, max_upload: int
) -> dict[str, Any]:
    """Mount every catalog operation; returns the schema components they reference."""
    schemas = OperationSchemas(OPERATIONS)
    for op in OPERATIONS:
        app.add_api_route(
            op.path,
            _make_endpoint(op, context, max_body, max_upload),
            methods=[op.method],
            name=op.name,
            summary=(op.handler.__doc__ or op.name).strip().splitlines()[0],
            status_code=op.status_code,
            response_model=None,
            response_class=Response if result_type(op) in RAW_RESULTS else JSONResponse,
            responses=schemas.responses(op),
            openapi_extra=schemas.openapi_extra(op) | {"x-shipyard-action": op.info.action},
            tags=[op.name.split(".")[0]],
        )
    return schemas.components
