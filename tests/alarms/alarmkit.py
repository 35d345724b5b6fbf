"""Shared pieces of the alarm tests: an endpoint with traffic, and a real webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.endpoints.endpointkit import MODEL, register_versions

from shipyard.client import Client, LocalTransport
from shipyard.platform import Platform
from shipyard.security import context_for

NEW = f"{MODEL}-v2"


def period_start(seconds: float = 10.0, back: int = 10) -> float:
    """A period boundary ``back`` periods ago (epoch seconds), where the tests write traffic."""
    now = datetime.now(UTC).timestamp()
    return (now // seconds - back) * seconds


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@pytest.fixture
def sdk(platform: Platform) -> Client:
    register_versions(platform, 2)
    client = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    client.endpoints.create("bc", f"{MODEL}@1")
    return client


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records every POST (and answers ``status``)."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204
    got: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, count: int) -> None:
        with self.got:
            assert self.got.wait_for(lambda: len(self.requests) >= count, 30)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: HMAC-SHA256 over ``<timestamp>.<body>``, compared in constant time."""
    timestamp = headers["x-shipyard-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + expected.hexdigest(), headers["x-shipyard-signature"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            target = box["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.send_response(target.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with target.got:
                target.requests.append((headers, body))
                target.got.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["receiver"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["receiver"]
    server.shutdown()
    server.server_close()
