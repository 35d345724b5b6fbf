"""Starting and stopping the servers under test, each in its own process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent


@dataclass
class RunningServer:
    """A server process: where it listens and the key that may invoke it."""

    name: str
    url: str
    api_key: str
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every live process in the server's group."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def stop(self) -> None:
        """Stop the server's whole process group (it may have spawned workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def launch(
    name: str,
    command: list[str],
    port: int,
    api_key: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> RunningServer:
    """Start ``command`` in its own session and wait until ``/ping`` answers."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = RunningServer(name, f"http://127.0.0.1:{port}", api_key, process, log)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{server.url}/ping", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{name} did not start; see {log}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def start_our_server(
    model_dir: Path, workdir: Path, workers: int = 1, options: tuple[str, ...] = ()
) -> RunningServer:
    """Shipyard's serving app for the bench model, with an extra constant route.

    Swap this for ``shipyard serve ENDPOINT`` from a real Shipyard home when it can
    take the model; the rest of the bench only needs the URL and the key.
    """
    port = free_port()
    api_key = "sy-bench-" + os.urandom(8).hex()
    command = [
        sys.executable,
        str(HERE / "_our_server.py"),
        str(model_dir),
        str(port),
        api_key,
        str(workers),
        *options,
    ]
    return launch("shipyard", command, port, api_key, workdir / "shipyard-server.log")
