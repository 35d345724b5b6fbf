"""The console's routes: its page and files (public), and login, whoami and logout."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from shipyard.console._guard import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    check_host,
    check_origin,
)
from shipyard.console._login_limit import LoginLimiter
from shipyard.console._static import StaticFiles
from shipyard.errors import InvalidInput, Unauthenticated, error_document
from shipyard.platform import Platform
from shipyard.security import (
    RequestContext,
    SessionState,
    check_csrf,
    close_session,
    open_session,
    session_state,
)

CONSOLE_PUBLIC_PATHS = frozenset({"/", "/static/{path:path}", "/console/session"})
"""Routes anyone may reach: the page, its files, and the login that checks a key itself."""

_MAX_LOGIN_BODY = 4096


def cookie_context(platform: Platform, request: Request, request_id: str) -> RequestContext:
    """The context of a request authenticated by a session cookie, after the browser checks:
    an allowed Host, no foreign Origin, and the CSRF token on unsafe methods."""
    host = check_host(request, platform.settings.console_allowed_hosts)
    check_origin(request, host)
    _state, ctx = session_state(platform, request.cookies[SESSION_COOKIE])
    if request.method in UNSAFE_METHODS:
        check_csrf(_state, request.headers.get(CSRF_HEADER))
    ctx.request_id = request_id
    return ctx


def _session_document(principal: str, state_expires: Any) -> dict[str, Any]:
    return {"principal": principal, "expires_at": state_expires.isoformat()}


def _current(platform: Platform, request: Request) -> SessionState:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("not logged in to the console")
    state, _ctx = session_state(platform, token)
    return state


def _clear_cookies(response: Response, secure: bool) -> None:
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="strict")


async def _login_key(request: Request) -> str:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_LOGIN_BODY:
            raise InvalidInput(f"body is larger than {_MAX_LOGIN_BODY} bytes", field="body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"malformed JSON: {exc}", field="body") from None
    if not isinstance(body, dict) or set(body) - {"key"}:
        raise InvalidInput('must be a JSON object {"key": "<api key>"}', field="body")
    key = body.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("an API key is required", field="key")
    return key


def add_console_routes(app: FastAPI, platform: Platform, files: StaticFiles) -> None:
    """Mount ``/``, ``/static/{path}`` and ``/console/session`` on the control plane."""
    settings = platform.settings
    limiter = LoginLimiter(settings.console_login_failures_per_minute)

    @app.get("/", include_in_schema=False)
    async def console_page(request: Request) -> Response:
        """The console's single page (public; the data behind it needs a session)."""
        check_host(request, settings.console_allowed_hosts)
        return files.response(request, "index.html")

    @app.get("/static/{path:path}", include_in_schema=False)
    async def console_file(request: Request, path: str) -> Response:
        """A script, style sheet or image of the console (public)."""
        check_host(request, settings.console_allowed_hosts)
        return files.response(request, path)

    @app.post("/console/session", include_in_schema=False)
    async def login(request: Request) -> Response:
        """Exchange an API key for a session cookie and a CSRF token."""
        host = check_host(request, settings.console_allowed_hosts)
        check_origin(request, host)
        address = request.client.host if request.client else "unknown"
        wait = limiter.retry_after(address)
        if wait > 0:
            return Response(
                orjson.dumps(
                    error_document(
                        "TooManyRequests",
                        f"too many failed logins from {address}; retry in {wait:.0f} s",
                    )
                ),
                status_code=429,
                media_type="application/json",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        key = await _login_key(request)
        try:
            issued = await run_in_threadpool(open_session, platform, key)
        except Unauthenticated:
            limiter.failed(address)
            raise
        secure = request.url.scheme == "https"
        response = Response(
            orjson.dumps(_session_document(issued.principal, issued.expires_at)),
            media_type="application/json",
        )
        max_age = settings.console_session_minutes * 60
        response.set_cookie(
            SESSION_COOKIE,
            issued.token,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
        response.set_cookie(
            CSRF_COOKIE,
            issued.csrf_token,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=False,
            samesite="strict",
        )
        return response

    @app.get("/console/session", include_in_schema=False)
    async def whoami(request: Request) -> Response:
        """Who the session cookie logs in, until when; 401 without a live session."""
        check_host(request, settings.console_allowed_hosts)
        state = await run_in_threadpool(_current, platform, request)
        return Response(
            orjson.dumps(_session_document(state.principal, state.expires_at)),
            media_type="application/json",
        )

    @app.delete("/console/session", include_in_schema=False)
    async def logout(request: Request) -> Response:
        """End the session server-side and clear both cookies (204 even when none was live)."""
        host = check_host(request, settings.console_allowed_hosts)
        check_origin(request, host)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            try:
                state = await run_in_threadpool(_current, platform, request)
            except Unauthenticated:
                state = None
            if state is not None:
                check_csrf(state, request.headers.get(CSRF_HEADER))
                await run_in_threadpool(close_session, platform, token)
        response = Response(status_code=204)
        _clear_cookies(response, request.url.scheme == "https")
        return response
