"""``shipyard server`` as an operator runs it: killed, it starts again at once on the same port
and sweeps what the killed process left; a live process's files are never swept."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from tests.cli.conftest import Processes, free_port, shipyard, wait_answering

MiB = 1024 * 1024


def start_server(processes: Processes, home: Path, port: int) -> str:
    """Start ``shipyard server`` on ``port``; returns its URL once it answers."""
    process = processes.start(home, "server", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    wait_answering(process, f"{url}/healthz")
    return url


def kill_9(processes: Processes) -> None:
    process = processes.started[-1]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_server_starts_again_at_once_after_kill_9(tmp_path: Path, processes: Processes) -> None:
    home, port = tmp_path / "home", free_port()
    url = start_server(processes, home, port)
    with httpx.Client() as kept_alive:  # the server's side of this connection ends in TIME_WAIT
        assert kept_alive.get(f"{url}/healthz").status_code == 200
        kill_9(processes)
    start_server(processes, home, port)
    assert httpx.get(f"{url}/api/v1/datasets").status_code == 401  # the control plane answers


def test_server_refuses_a_port_another_process_listens_on(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = shipyard(tmp_path / "home", "server", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: port: port {port} on 127.0.0.1 is already in use"
    ]


def admin_key(home: Path) -> str:
    init = shipyard(home, "init")
    assert init.returncode == 0, init.stderr
    return next(word for word in init.stdout.split() if word.startswith("sy_"))


def start_upload(port: int, key: str, name: str, size: int) -> socket.socket:
    """Send the head of a ``size``-byte CSV upload and its first MiB, then stop sending."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /api/v1/datasets/{name}/versions?filename=d.csv HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nContent-Length: {size}\r\n\r\n"
    )
    connection.sendall(head.encode() + b"a,b\n" + b"1,2\n" * (MiB // 4))
    return connection


def spools(home: Path) -> list[Path]:
    return sorted(home.glob("tmp/**/upload-*"))


def wait_for_spool(home: Path, timeout: float = 60.0) -> Path:
    """The upload's spool file, once the first MiB is in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for spool in spools(home):
            if spool.stat().st_size >= MiB:
                return spool
        time.sleep(0.02)
    pytest.fail(f"no spool file appeared under {home / 'tmp'}")


def test_a_killed_upload_leaves_nothing_after_a_restart(
    tmp_path: Path, processes: Processes
) -> None:
    home, port = tmp_path / "home", free_port()
    key = admin_key(home)
    start_server(processes, home, port)
    with start_upload(port, key, "killed", 100 * MiB):
        left = wait_for_spool(home)
        kill_9(processes)
    assert left.exists()  # what a killed server leaves behind ...
    start_server(processes, home, port)
    assert not left.parent.exists()  # ... is gone once the next one has started
    assert spools(home) == []


def test_a_live_servers_upload_survives_another_process_starting(
    tmp_path: Path, processes: Processes
) -> None:
    home, port = tmp_path / "home", free_port()
    key = admin_key(home)
    start_server(processes, home, port)
    size = 4 * MiB
    with start_upload(port, key, "alive", size) as upload:
        spool = wait_for_spool(home)
        other = shipyard(home, "datasets", "list")  # opens the same home, which sweeps
        assert other.returncode == 0, other.stderr
        assert spool.exists()
        upload.sendall(b"1,2\n" * ((size - MiB - 4) // 4))
        answer = upload.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]
    assert spools(home) == []
