"""Request bodies on the control plane: an early answer is read, not reset.

One ASGI middleware (an app in, an app out). A response that ends before the client has
sent all of its body (401, 403 or 413 decided from the headers, a stalled upload, any
early error) goes out at once with ``Connection: close``; then the rest of the body is
read and thrown away, at most ``drain_bytes`` bytes and ``drain_seconds`` seconds (and
no longer than ``idle_timeout`` without a byte), before the connection closes. Clients
that read only after sending everything (Python's urllib, requests) then get the answer
instead of a connection reset; a body declared larger than the allowance is not read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0


@dataclass
class _Body:
    declared: int | None
    received: int = 0
    done: bool = False  # the last chunk arrived, or the client went away

    def saw(self, message: Message) -> Message:
        if message["type"] == "http.disconnect":
            self.done = True
        else:
            self.received += len(message.get("body", b""))
            self.done = not message.get("more_body", False)
        return message


class BodyGuard:
    """Drain the unread part of a request body so that an early response is read."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        idle_timeout: float,
        drain_bytes: int = DRAIN_BYTES,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self.app = app
        self.idle_timeout = idle_timeout
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _framing(scope)
        body = _Body(declared=declared, done=not chunked and not declared)

        async def guarded_receive() -> Message:
            return await receive() if body.done else body.saw(await receive())

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                if not body.done:
                    MutableHeaders(scope=message)["connection"] = "close"
            elif (
                message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and not body.done
            ):
                await send({**message, "more_body": True})
                await self._drain(receive, body)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app(scope, guarded_receive, guarded_send)

    async def _drain(self, receive: Receive, body: _Body) -> None:
        """Read and discard what is left of the body, within the allowance."""
        if body.declared is not None and body.declared - body.received > self.drain_bytes:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.drain_seconds
        limit = body.received + self.drain_bytes
        while not body.done and body.received <= limit:
            wait = min(deadline - loop.time(), self.idle_timeout)
            if wait <= 0:
                return
            try:
                body.saw(await asyncio.wait_for(receive(), wait))
            except TimeoutError:
                return


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None if absent) and whether the body is chunked."""
    declared, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit():
            declared = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return declared, chunked
