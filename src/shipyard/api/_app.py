"""The REST control plane: every catalog operation behind ``Authorization: Bearer`` (or a
console session cookie, with the browser checks of ``shipyard.console``, or a verified
client certificate naming a service principal), and the console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from shipyard import __version__
from shipyard.api._access_log import AccessLog
from shipyard.api._body import BodyGuard
from shipyard.api._errors import install_error_handlers
from shipyard.api._json import JSONResponse
from shipyard.api._mlflow import MLFLOW_ROUTES, add_mlflow_routes
from shipyard.api._routes import add_operation_routes
from shipyard.console import (
    CONSOLE_PUBLIC_PATHS,
    SESSION_COOKIE,
    ConsoleHeaders,
    StaticFiles,
    add_console_routes,
    cookie_context,
)
from shipyard.platform import Platform
from shipyard.security import (
    KeyUse,
    RequestContext,
    RequestLimiter,
    authenticate,
    authenticate_certificate,
    new_request_id,
)
from shipyard.tls import has_client_certificate, scope_principal, scope_serial

PUBLIC_PATHS = frozenset({"/healthz"}) | CONSOLE_PUBLIC_PATHS


def create_app(platform: Platform) -> FastAPI:
    """Build the control-plane app over one platform."""
    limiter = RequestLimiter(platform)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        limiter.start()
        try:
            yield
        finally:
            await run_in_threadpool(limiter.stop)

    app = FastAPI(
        lifespan=lifespan,
        title="Shipyard",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=JSONResponse,
    )
    install_error_handlers(app)
    settings = platform.settings

    key_use = KeyUse(platform)

    async def context(request: Request) -> RequestContext:
        request_id = (request.headers.get("x-request-id") or new_request_id())[:64]
        authorization = request.headers.get("authorization")
        if authorization is None and SESSION_COOKIE in request.cookies:
            ctx = await run_in_threadpool(cookie_context, platform, request, request_id)
        elif authorization is None and has_client_certificate(request.scope):
            ctx = await run_in_threadpool(
                authenticate_certificate,
                platform,
                scope_principal(request.scope),
                request_id,
                scope_serial(request.scope),
            )
        else:
            ctx = await run_in_threadpool(
                authenticate, platform, authorization, request_id, key_use
            )
            if key_use.pending:
                # written by a pool thread while the request goes on: never a write on its path
                asyncio.get_running_loop().run_in_executor(None, key_use.flush)
        # The facts conditions test (sy:SourceIp, sy:SecureTransport): the peer's address
        # and the ASGI scheme, never a forwarding header a client could write.
        ctx.source_ip = request.client.host if request.client else None
        ctx.secure_transport = request.url.scheme in ("https", "wss")
        limiter.check(ctx.principal)
        return ctx

    components = add_operation_routes(
        app, context, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    add_mlflow_routes(
        app,
        MLFLOW_ROUTES,
        context,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
    )

    add_console_routes(app, platform, StaticFiles())

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (public)."""
        return {"status": "ok"}

    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> dict[str, Any]:
        """The OpenAPI schema of this API (any authenticated principal may read it)."""
        ctx = await context(request)
        await run_in_threadpool(ctx.authorize, "api:DescribeSchema", "sy:api/schema")
        return _schema(app, components)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["x-request-id"] = request.headers.get("x-request-id", "")[:64]
        return response

    app.add_middleware(BodyGuard, idle_timeout=settings.upload_idle_timeout_seconds)
    app.add_middleware(ConsoleHeaders)
    app.add_middleware(AccessLog)  # outermost: names the request and logs its outcome
    app.state.platform = platform
    return app


def _schema(app: FastAPI, components: dict[str, Any]) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
        schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
    return app.openapi_schema
