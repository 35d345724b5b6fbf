"""Issue 14(b), the acceptance test: a serving worker holds no store credentials.

``shipyard serve NAME --workers N`` (one and two) runs with a database URL and an S3 secret in its
environment and encryption at rest on (a key-encryption key under ``<home>/keys``). The
supervising process may hold all of that; each worker process must hold none of it: not
in its environment, not among its open files, and the metadata database and the key file
must not be visible in its view of the filesystem (``/proc/<pid>/root``).

The supervisor answers its workers on a private socket (``shipyard.endpoints._supervisor``):
they start with a scrubbed environment and stripped settings, load their models from the
supervisor's shelf, and hide the database and keys from themselves in a mount namespace.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from dataplanekit import register_three, wait_for

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap

S3_SECRET = "worker-must-not-see-this-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def _workers(pid: int) -> list[int]:
    """The serving workers under the supervisor (spawned interpreters, not its resource
    tracker)."""
    found = []
    for child in _children(pid):
        command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(child)
    return found


def _open_files(pid: int) -> list[str]:
    names = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            names.append(os.readlink(fd))
        except OSError:
            continue
    return names


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("count", [1, 2])
def test_a_serving_worker_holds_no_database_url_s3_secret_or_key(
    tmp_path: Path, count: int
) -> None:
    home = tmp_path / "home"
    database = home / "shipyard.db"
    settings = Settings(home=home, database_url=f"sqlite:///{database}", encryption="on")
    platform = Platform.open(settings)
    bootstrap(platform)
    register_three(platform)  # stored encrypted: the key-encryption key now exists
    platform.close()
    keys = sorted((home / "keys").glob("kek-*.key"))
    if not keys:
        pytest.fail("encryption at rest made no key-encryption key")
    client = Client(settings=settings)
    client.endpoints.create("private", variants=[{"name": "blue", "model": "bc-model@1"}])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPYARD_", "AWS_"))}
    env |= {
        "SHIPYARD_HOME": str(home),
        "SHIPYARD_DATABASE_URL": settings.metadata_url,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    port = _free_port()
    command = [sys.executable, "-m", "shipyard", "serve", "private", "--workers", str(count)]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        try:
            wait_for(lambda: len(client.endpoints.get("private").instances) == count, timeout=120)
        except AssertionError:
            pytest.fail("the workers did not start: " + (tmp_path / "serve.log").read_text())
        workers = _workers(process.pid)
        if len(workers) != count:
            pytest.fail(f"expected {count} workers under the supervisor, found {workers}")
        secrets = {"database URL": settings.metadata_url.encode(), "S3 secret": S3_SECRET.encode()}
        secrets |= {key.name: key.read_bytes() for key in keys}
        held = []
        for pid in workers:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            held += [
                f"{pid}: {name} in its environment" for name, s in secrets.items() if s in environ
            ]
            opened = set(_open_files(pid))
            held += [f"{pid}: {p} open" for p in [str(database), *map(str, keys)] if p in opened]
            root = Path(f"/proc/{pid}/root")
            visible = [p for p in [database, *keys] if (root / str(p).lstrip("/")).exists()]
            held += [f"{pid}: can see {p}" for p in visible]
        assert not held, "a worker holds: " + "; ".join(held)
        if count == 1:  # a supervisor killed outright takes its workers with it
            process.kill()
            process.wait(timeout=30)
            wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 30)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        client.close()
