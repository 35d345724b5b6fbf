"""The uvicorn runner: loopback unless told otherwise, and several workers from a factory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shipyard.errors import InvalidInput
from shipyard.serving import ServingApp, is_loopback, serve, uvicorn_config


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "example.org"])
def test_other_hosts_are_refused_without_allow_remote(cancer_app: ServingApp, host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(InvalidInput) as raised:
        serve(cancer_app, host=host, port=1)
    assert raised.value.field == "host"
    config = uvicorn_config(cancer_app, host=host, port=1, allow_remote=True)
    assert config.host == host


def test_the_fast_stack_is_chosen(cancer_app: ServingApp) -> None:
    config = uvicorn_config(cancer_app)
    assert (config.http, config.loop, config.access_log) == ("httptools", "uvloop", False)
    assert (config.host, config.port) == ("127.0.0.1", 8080)


def test_several_workers_need_a_factory(cancer_app: ServingApp) -> None:
    with pytest.raises(InvalidInput) as raised:
        serve(cancer_app, workers=2)
    assert raised.value.field == "workers"


SERVER_SCRIPT = """
import sys

import lightgbm as lgb
import numpy as np

sys.path.insert(0, {kit!r})
from servingkit import FULL_KEY, MemoryAuthorizer, stored_predictor

from shipyard.flavors import ColumnSpec, ModelSignature
from shipyard.serving import INVOKE, create_serving_app, serve


def build():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    booster = lgb.train(
        {{"objective": "binary", "verbose": -1, "num_threads": 1}},
        lgb.Dataset(x, (x[:, 0] > 0).astype(int)),
        num_boost_round=5,
    )
    signature = ModelSignature(
        inputs=[ColumnSpec(name=n, type="float") for n in "abc"],
        task="classification",
        target="y",
        classes=[0, 1],
    )
    authorizer = MemoryAuthorizer({{FULL_KEY: {{INVOKE}}}})
    return create_serving_app("ep", "m", 1, stored_predictor(booster, signature), authorizer)


if __name__ == "__main__":
    serve(build, port=int(sys.argv[1]), workers=2, log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_two_workers_from_a_factory_serve_and_stop_on_sigint(tmp_path: Path) -> None:
    script = tmp_path / "serve_two.py"
    script.write_text(SERVER_SCRIPT.format(kit=str(Path(__file__).parent)))
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port)], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "server exited early"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        headers = {"Authorization": "Bearer sy-key-full"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
            for _ in range(20):
                response = http.post("/invocations", json={"instances": [[1.0, 0.0, 0.0]]})
                assert response.status_code == 200
                assert response.json()["predictions"] == [1]
    finally:
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
