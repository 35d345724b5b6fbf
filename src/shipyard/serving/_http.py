"""The few HTTP pieces the serving app needs on top of raw ASGI: request, response, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
import orjson

from shipyard.errors import (
    MethodNotAllowed,
    Overloaded,
    PayloadTooLarge,
    ShipyardError,
    StorageError,
    TooManyRequests,
    Unauthenticated,
    document_of,
    error_document,
    http_status,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class ClientDisconnected(Exception):
    """The client went away before sending the whole body."""


class Request:
    """One HTTP request: its scope, path parameters and the headers the app reads.

    ``config`` is the endpoint snapshot the request was routed with, ``variant``
    the variant that answers it, once chosen.
    """

    __slots__ = (
        "authorization",
        "config",
        "content_length",
        "content_type",
        "params",
        "pinned",
        "principal",
        "receive",
        "request_id",
        "scope",
        "variant",
    )

    def __init__(self, scope: Scope, receive: Receive, params: dict[str, str]) -> None:
        self.scope = scope
        self.receive = receive
        self.params = params
        self.authorization: str | None = None
        self.content_type = ""
        self.content_length: int | None = None
        self.principal = ""
        self.pinned: str | None = None
        self.request_id: bytes | None = None
        self.config: Any = None
        self.variant: Any = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.authorization = value.decode("latin-1")
            elif name == b"content-type":
                self.content_type = value.decode("latin-1")
            elif name == b"content-length":
                self.content_length = int(value) if value.isdigit() else None
            elif name == b"x-request-id":
                if 0 < len(value) <= 64 and value.isascii():
                    self.request_id = value
            elif name == b"x-shipyard-variant":
                self.pinned = value.decode("latin-1")

    async def body(self, limit: int) -> bytes:
        """The whole body; PayloadTooLarge as soon as it is known to exceed ``limit`` bytes."""
        if self.content_length is not None and self.content_length > limit:
            raise PayloadTooLarge(
                f"body of {self.content_length} bytes exceeds {limit}", field="body"
            )
        message = await self.receive()
        if message["type"] != "http.request":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        if not message.get("more_body", False) and len(chunk) <= limit:
            return chunk
        chunks = [chunk]
        size = len(chunk)
        while True:
            if size > limit:
                raise PayloadTooLarge(f"body exceeds {limit} bytes", field="body")
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await self.receive()
            if message["type"] != "http.request":
                raise ClientDisconnected
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)


class Response:
    """A complete response: status, body and extra headers.

    ``after`` holds what the app does once the response is sent (shadow copies,
    data capture): the request's input, answer, raw body, protocol and, on an endpoint with
    online features, the enriched request.
    """

    __slots__ = ("after", "body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: bytes = JSON,
        headers: Headers | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []
        self.after: tuple[Any, Any, bytes, str, Any] | None = None

    async def send(self, send: Send, extra: Headers, request_id: bytes) -> None:
        headers = [
            (b"content-type", self.content_type),
            (b"content-length", b"%d" % len(self.body)),
            (b"x-request-id", request_id),
        ]
        if self.headers:
            headers += self.headers
        headers += extra
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def _default(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(data: object, status: int = 200, headers: Headers | None = None) -> Response:
    """A JSON response; numpy arrays serialise natively."""
    return Response(
        status, orjson.dumps(data, default=_default, option=_JSON_OPTIONS), JSON, headers
    )


INTERNAL_ERROR = "InternalError"


def error_response(exc: ShipyardError, *, oip: bool = False) -> tuple[Response, str]:
    """A Shipyard error as its HTTP response and error type; the only place that does.

    The body is the one error document of ``shipyard.errors``, or on the Open Inference
    Protocol routes (``oip``) that spec's ``{"error": "<message>"}``.
    """
    headers: Headers = []
    if isinstance(exc, PayloadTooLarge):
        headers.append((b"connection", b"close"))
    elif isinstance(exc, Unauthenticated):
        headers.append((b"www-authenticate", b"Bearer"))
    elif isinstance(exc, MethodNotAllowed):
        headers.append((b"allow", ", ".join(sorted(exc.allowed)).encode()))
    elif isinstance(exc, (Overloaded, TooManyRequests)):
        headers.append((b"retry-after", b"%d" % exc.retry_after))
    elif isinstance(exc, StorageError):
        headers.append((b"retry-after", b"1"))
    body = {"error": str(exc)} if oip else document_of(exc)
    return json_response(body, http_status(exc), headers), type(exc).__name__


def internal_error_response(*, oip: bool = False) -> Response:
    """The answer to a failure nobody raised on purpose; details stay in the log."""
    message = "internal server error"
    body = {"error": message} if oip else error_document(INTERNAL_ERROR, message)
    return json_response(body, 500)


async def non_http(
    kind: str,
    receive: Receive,
    send: Send,
    start: Callable[[], None],
    stop: Callable[[], None],
    name: str,
) -> None:
    """What a serving app does with a scope that is not HTTP: refuse websockets, and run
    ``start``/``stop`` at the lifespan's startup and shutdown (``stop`` off the loop)."""
    if kind == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    if kind != "lifespan":
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                start()
            except Exception as exc:
                logging.getLogger("shipyard.serving").exception(
                    "serving app %s failed to start", name
                )
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.get_running_loop().run_in_executor(None, stop)
            await send({"type": "lifespan.shutdown.complete"})
            return
