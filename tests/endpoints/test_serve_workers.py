"""``shipyard serve NAME --workers 2``: two processes on one port, both reporting and reloading."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from dataplanekit import admin_token, register_three, rows, wait_for

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_two_workers_share_a_port_and_follow_weight_changes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", key_cache_seconds=0.2)
    platform = Platform.open(settings)
    bootstrap(platform)
    register_three(platform)
    token = admin_token(platform)
    client = Client(settings=settings)
    client.endpoints.create(
        "multi",
        variants=[
            {"name": "blue", "model": "bc-model@1", "weight": 1},
            {"name": "green", "model": "bc-model@2", "weight": 0},
        ],
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(settings.home)
    command = [sys.executable, "-m", "shipyard", "serve", "multi", "--workers", "2"]
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: len(client.endpoints.get("multi").instances) == 2, timeout=120)
        instances = client.endpoints.get("multi").instances
        assert all(i.url == f"http://127.0.0.1:{port}" and i.live for i in instances)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            for i in range(10):
                response = http.post("/invocations", json={"instances": rows(1, i)})
                assert response.status_code == 200
                assert response.headers["x-shipyard-variant"] == "blue"
            info = client.endpoints.set_weights("multi", {"blue": 0, "green": 1})

            def both_reloaded() -> bool:
                found = client.endpoints.get("multi").instances
                return len(found) == 2 and all(i.generation == info.generation for i in found)

            wait_for(both_reloaded, timeout=30)
            for i in range(10):
                response = http.post("/invocations", json={"instances": rows(1, i)})
                assert response.headers["x-shipyard-variant"] == "green"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert client.endpoints.get("multi").instances == []  # each worker left cleanly
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        client.close()
        platform.close()
        log.close()
