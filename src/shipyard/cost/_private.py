"""A private copy of an endpoint for load tests: the same model versions, on 127.0.0.1, on
a port of its own, with capture off, no link to the control plane (no heartbeats, stats
or usage rows: it is no deployment), and a one-time token as its only credential.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import signal
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from shipyard.config import Settings
from shipyard.errors import AccessDenied, Conflict, Unauthenticated
from shipyard.jobs._usage import tree
from shipyard.security import NO_TRANSPORT, Transport
from shipyard.serving import ServingApp, ServingSettings

START_SECONDS = 120.0


class TokenAuthorizer:
    """Allows exactly one bearer token, for every data-plane action."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}"

    def authorize(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str | None:
        if not authorization:
            raise Unauthenticated("missing Authorization")
        if not secrets.compare_digest(authorization.strip(), self._expected):
            raise AccessDenied("not the load test's token")
        return "load-test"

    def resolve(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        found = self.authorize(authorization, action, resource)
        assert found is not None
        return found


@dataclass(frozen=True)
class PrivateAppFactory:
    """What each worker process of the copy calls to build its app (picklable)."""

    settings: Settings
    endpoint: str
    token: str
    max_batch_size: int
    max_wait_ms: float

    def __call__(self) -> ServingApp:
        from shipyard.endpoints._runtime import _predictor_loader
        from shipyard.platform import Platform
        from shipyard.serving import BatchingSettings, CaptureSettings, DatabaseLink, EndpointConfig

        platform = Platform.open(self.settings, migrate=False)
        try:
            loaded = DatabaseLink(platform, self.endpoint, _predictor_loader(platform)).load(None)
        finally:
            platform.close()
        config = EndpointConfig(
            loaded.variants,
            generation=loaded.generation,
            capture=CaptureSettings(enabled=False),
            batching=BatchingSettings(
                enabled=self.max_batch_size > 1,
                max_batch_size=max(self.max_batch_size, 1),
                max_wait_ms=self.max_wait_ms,
            ),
        )
        serving = ServingSettings(max_body_bytes=self.settings.max_body_bytes)
        return ServingApp(self.endpoint, config, TokenAuthorizer(self.token), serving)


def _serve(factory: PrivateAppFactory, port: int, workers: int) -> None:
    from shipyard.serving import serve

    target = factory if workers > 1 else factory()
    serve(target, "127.0.0.1", port, workers, log_level="warning")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PrivateCopy:
    url: str
    token: str
    pid: int

    def usage(self) -> tuple[float, float]:
        """(CPU seconds, resident MiB) of the copy's processes now."""
        members = tree(self.pid)
        return sum(p.cpu_seconds for p in members), sum(p.rss_bytes for p in members) / 2**20


@contextlib.contextmanager
def private_copy(
    settings: Settings, endpoint: str, workers: int, max_batch_size: int, max_wait_ms: float
) -> Iterator[PrivateCopy]:
    """Start the copy, wait until it answers, and end every process of it on exit."""
    token = secrets.token_urlsafe(32)
    factory = PrivateAppFactory(settings, endpoint, token, max_batch_size, max_wait_ms)
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(factory, port, workers), daemon=False
    )
    process.start()
    assert process.pid is not None
    copy = PrivateCopy(f"http://127.0.0.1:{port}", token, process.pid)
    try:
        _wait_ready(copy, process)
        yield copy
    finally:
        members = [p.pid for p in tree(process.pid)]
        process.terminate()
        process.join(timeout=15)
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        process.join(timeout=5)


def _wait_ready(copy: PrivateCopy, process: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + START_SECONDS
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if not process.is_alive():
                raise Conflict("the endpoint's private copy failed to start", field="name")
            with contextlib.suppress(httpx.HTTPError):
                if http.get(f"{copy.url}/ping").status_code == 200:
                    return
            time.sleep(0.05)
    raise Conflict("the endpoint's private copy did not start in time", field="name")
