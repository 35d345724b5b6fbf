"""One log line per request (method, path, status, milliseconds) and its request id.

A request without ``x-request-id`` gets a fresh one here, so the error handlers, the
service call and every log line made while answering it name the same id. Neither the
query string nor any header or body is logged.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipyard.logs import log_context
from shipyard.security import new_request_id

_log = logging.getLogger("shipyard.api.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope["headers"])
        given = next((v for k, v in headers if k == b"x-request-id"), b"")[:64]
        request_id = given.decode("latin-1") or new_request_id()
        if not given:
            headers = [(k, v) for k, v in headers if k != b"x-request-id"]
            headers.append((b"x-request-id", request_id.encode()))
            scope = dict(scope, headers=headers)
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        started = time.perf_counter()
        with log_context(request_id=request_id):
            try:
                await self.app(scope, receive, sending)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                level = logging.WARNING if status >= 500 else logging.INFO
                _log.log(level, "%s %s %d %.1f ms", scope["method"], scope["path"], status, elapsed)
