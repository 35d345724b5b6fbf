"""Uploads to the REST control plane as ordinary clients send them: urllib, raw sockets.

A real uvicorn server on 127.0.0.1; refusals are read by the client, stalled bodies are
dropped, and no spool file outlives its request.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.conftest import LiveServer

from shipyard.api import create_app
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none

MiB = 1024 * 1024
INGEST = "/api/v1/datasets/{name}/versions?filename=d.csv"


class Server:
    """A control plane with small limits, its home, and the admin key."""

    def __init__(self, home: Path, **limits: Any) -> None:
        self.home = home
        self.settings = Settings(home=home, **limits)
        self.platform = Platform.open(self.settings)
        bootstrap(self.platform)
        key = issue_admin_key_if_none(self.platform)
        assert key is not None
        self.admin_key = key.token
        self.live = LiveServer(create_app(self.platform))
        self.url = self.live.url
        self.port = int(self.url.rsplit(":", 1)[1])

    def spools(self) -> list[Path]:
        return sorted(self.home.glob("tmp/**/upload-*"))

    def close(self) -> None:
        self.live.close()
        self.platform.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(
        tmp_path / "home",
        max_upload_bytes=1 * MiB,
        max_body_bytes=64 * 1024,
        upload_idle_timeout_seconds=0.5,
    )
    yield running
    running.close()


def urllib_post(url: str, key: str, body: bytes | Iterator[bytes]) -> tuple[int, dict[str, Any]]:
    """POST with urllib: it sends the whole body before it reads any answer."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/octet-stream")
    if not isinstance(body, bytes):
        request.add_header("Transfer-Encoding", "chunked")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


def send_head(port: int, key: str, path: str, length: int, first: bytes) -> socket.socket:
    """Open a connection and send the request head and the first bytes of the body."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n"
    )
    connection.sendall(head.encode() + first)
    return connection


def read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body (read until the server closes the connection)."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, body


def test_a_declared_body_over_the_limit_gets_a_413_urllib_can_read(server: Server) -> None:
    status, body = urllib_post(
        server.url + INGEST.format(name="big"), server.admin_key, b"x" * (8 * MiB)
    )
    assert status == 413
    assert body["error"]["type"] == "PayloadTooLarge"
    assert server.spools() == []


def test_a_chunked_body_over_the_limit_gets_a_413_urllib_can_read(server: Server) -> None:
    status, body = urllib_post(
        server.url + INGEST.format(name="big"), server.admin_key, chunks(8 * MiB)
    )
    assert status == 413
    assert body["error"]["field"] == "body"
    assert server.spools() == []


def test_a_json_body_over_its_limit_gets_a_413_urllib_can_read(server: Server) -> None:
    status, body = urllib_post(f"{server.url}/api/v1/experiments", server.admin_key, chunks(MiB))
    assert status == 413
    assert body["error"]["type"] == "PayloadTooLarge"


def test_an_upload_within_the_limit_still_works_over_urllib(server: Server) -> None:
    status, body = urllib_post(
        server.url + INGEST.format(name="small"), server.admin_key, b"a,b\n1,2\n3,4\n"
    )
    assert status == 201
    assert body["rows"] == 2
    assert server.spools() == []


def test_a_stalled_upload_is_dropped_and_its_spool_removed(server: Server) -> None:
    connection = send_head(
        server.port, server.admin_key, INGEST.format(name="stalled"), MiB // 2, b"a,b\n1,2\n"
    )
    with connection:
        status, headers, body = read_response(connection)  # the server closes: bounded wait
    assert status == 400
    assert headers["connection"] == "close"
    error = orjson.loads(body)["error"]
    assert error["field"] == "body"
    assert "no bytes arrived" in error["message"]
    assert server.spools() == []


def _deny_ingest_of_x(server: Server, name: str, allow_elsewhere: bool) -> str:
    """A service principal that may not ingest into dataset x; returns its key."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Deny", "Action": ["datasets:Ingest"], "Resource": ["sy:dataset/x"]}
    ]
    if allow_elsewhere:
        statements.append(
            {"Effect": "Allow", "Action": ["datasets:*"], "Resource": ["sy:dataset/*"]}
        )
    with Client(settings=server.settings) as admin:
        admin.iam.create_principal(name, kind="service")
        admin.iam.put_policy(f"{name}-policy", {"Statement": statements})
        admin.iam.attach_policy(name, f"{name}-policy")
        token = admin.iam.create_api_key(name).token
    assert token is not None
    return token


@pytest.mark.parametrize("allow_elsewhere", [True, False], ids=["deny-on-x", "no-ingest-at-all"])
def test_a_denied_upload_is_refused_before_its_body_is_read(
    server: Server, allow_elsewhere: bool
) -> None:
    key = _deny_ingest_of_x(server, "uploader", allow_elsewhere)
    total = 50 * MiB
    first = b"a,b\n" + b"1,2\n" * 16384
    connection = send_head(server.port, key, INGEST.format(name="x"), total, first)
    with connection:
        # The answer comes while almost all of the 50 MB is still unsent.
        connection.settimeout(30)
        head = connection.recv(65536)
    assert head.startswith(b"HTTP/1.1 403 "), head[:200]
    assert server.spools() == []
    assert not any((server.home / "tmp").rglob("*.part"))


def test_a_denied_upload_gets_a_403_urllib_can_read(server: Server) -> None:
    key = _deny_ingest_of_x(server, "uploader", allow_elsewhere=True)
    status, body = urllib_post(server.url + INGEST.format(name="x"), key, b"x" * (50 * MiB))
    assert status == 403
    assert body["error"]["type"] == "AccessDenied"
    assert server.spools() == []
