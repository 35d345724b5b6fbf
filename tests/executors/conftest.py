"""A real Ray head for the session, on 127.0.0.1 only, with a token of its own.

Started once (``ray start --head --block`` in its own process group and temporary
directory) and stopped at the end of the session, failures included: SIGTERM to its
group, SIGKILL after a grace. Its workers import this worktree's ``shipyard`` and
``tests`` (``PYTHONPATH``). Nothing is read from or written to ~/.ray.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120


@dataclass(frozen=True)
class RayHead:
    """A running head: the ``executor`` setting that reaches it and its token file."""

    address: str
    token_file: Path
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # what is left of the group (raylet, workers)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    try:
        import grpc  # noqa: F401 - the Ray client needs it (the shipyard[ray] extra has it)
        import ray  # noqa: F401
    except ImportError as error:
        service_unavailable(f"the Ray client is not installed ({error}): pip install 'ray[client]'")
    directory = Path(tempfile.mkdtemp(prefix="sy-ray-"))  # short: Ray's socket paths live here
    token = directory / "auth_token"
    token.touch(mode=0o600)
    token.write_text(secrets.token_hex(32))
    client_port = free_port()
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # single-machine mode: loopback binds only
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    ray_cli = Path(sys.executable).parent / "ray"
    log = directory / "head.log"
    command = [
        str(ray_cli),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={free_port()}",
        f"--ray-client-server-port={client_port}",
        f"--temp-dir={directory / 'ray'}",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--num-cpus=2",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _listening(client_port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield RayHead(f"ray://127.0.0.1:{client_port}", token, log)
    finally:
        _stop(process)
        shutil.rmtree(directory, ignore_errors=True)
