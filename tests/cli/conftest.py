"""Running ``shipyard`` servers as subprocesses on free loopback ports, stopped after each test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(home: Path, **settings: str) -> dict[str, str]:
    """This environment without SHIPYARD_* variables, then the home and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    env.update({f"SHIPYARD_{name.upper()}": value for name, value in settings.items()})
    return env


def shipyard(home: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run one ``shipyard`` command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "shipyard", *args],
        capture_output=True,
        text=True,
        env=environment(home, **settings),
        timeout=300,
        check=False,
    )


class Processes:
    """Long-running ``shipyard`` commands started by a test; all killed when it ends."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[str]] = []

    def start(self, home: Path, *args: str, **settings: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "shipyard", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(home, **settings),
        )
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


def wait_answering(process: subprocess.Popen[str], url: str, timeout: float = 120.0) -> None:
    """Poll ``url`` until it answers 200; fail with the server's stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"server exited with {process.returncode}: {stderr}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"{url} did not answer within {timeout} s")
