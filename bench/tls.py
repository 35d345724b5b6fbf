"""TLS bench: the serving plane's requests/s and latency with TLS on against off.

    python bench/tls.py            # 10 s per load run, 5 runs per side, medians
    python bench/tls.py --quick    # 3 s per load run, 2 runs per side

Two servers of the same endpoint app (one small numpy model, one worker each), one
plain and one HTTPS with the development CA of ``shipyard.tls``, each in its own
process on 127.0.0.1. Keep-alive clients (wrk if installed, else httpx) drive them in
turn, alternating which side goes first run by run, and the TLS/plain ratio of each run
pair is reported as a median with its range. Handshakes are outside the measure: every
connection is opened once and kept alive, as a client of an endpoint would. The server's
CPU time per request is reported too: on a shared machine it depends less on how busy the
load generator is than requests/s does.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _load import LoadResult, find_wrk, run_httpx, run_wrk

KEY = "bench-key"
CONNECTIONS = 8


def _serve(port_file: Path, cert: str | None, key: str | None) -> None:
    """In the server process: serve the bench endpoint on a free port, written to a file."""
    import numpy as np
    import uvicorn

    from shipyard.errors import Unauthenticated
    from shipyard.flavors import ColumnSpec, ModelSignature, Prediction, Predictor
    from shipyard.serving import create_serving_app, uvicorn_config
    from shipyard.tls._server import ServerTLS

    class Linear(Predictor):
        def __init__(self) -> None:
            inputs = [ColumnSpec(name=f"x{i}", type="float") for i in range(4)]
            super().__init__(None, ModelSignature(inputs=inputs, task="regression", target="y"))
            self.weights = np.arange(1.0, 5.0)

        def predict(self, features: Any) -> Prediction:
            return Prediction(np.asarray(features, dtype=float) @ self.weights)

    class OneKey:
        def authorize(
            self, authorization: str | None, action: str, resource: str, transport: object = None
        ) -> str:
            if authorization != f"Bearer {KEY}":
                raise Unauthenticated("API key is not valid")
            return "bench"

        def resolve(
            self, authorization: str | None, action: str, resource: str, transport: object = None
        ) -> str:
            return self.authorize(authorization, action, resource)

    app = create_serving_app("bench", "linear", 1, Linear(), OneKey())
    tls = ServerTLS(Path(cert), Path(key)) if cert and key else None
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn_config(app, port=0, log_level="warning", tls=tls)
    port_file.write_text(str(sock.getsockname()[1]))
    uvicorn.Server(config).run(sockets=[sock])


class Side:
    """One server process of the bench: plain or TLS."""

    def __init__(self, name: str, workdir: Path, cert: Path | None, key: Path | None) -> None:
        self.name = name
        port_file = workdir / f"{name}.port"
        args = [sys.executable, __file__, "--serve", str(port_file)]
        if cert and key:
            args += [str(cert), str(key)]
        self.process = subprocess.Popen(args)
        deadline = time.monotonic() + 120
        while not port_file.exists() or not port_file.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} server did not start")
            time.sleep(0.1)
        scheme = "https" if cert else "http"
        self.url = f"{scheme}://127.0.0.1:{port_file.read_text()}"

    def wait_ready(self, ca: Path) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.url + "/ping", verify=str(ca)).is_success:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server does not answer")
            time.sleep(0.2)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port_file, *tls = args.serve
        _serve(Path(port_file), *(tls or [None, None]))
        return
    seconds, runs = (3.0, 2) if args.quick else (10.0, 5)
    from shipyard.tls._dev import make_ca, make_server_cert

    wrk = find_wrk(install=False)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ca = make_ca(workdir / "certs").cert
        server = make_server_cert(workdir / "certs", ["127.0.0.1"])
        body = workdir / "body.json"
        body.write_text(json.dumps({"inputs": [[0.5, 1.0, 1.5, 2.0]]}))
        sides = {
            "plain": Side("plain", workdir, None, None),
            "tls": Side("tls", workdir, server.cert, server.key),
        }
        try:
            for side in sides.values():
                side.wait_ready(ca)
            results: dict[str, list[LoadResult]] = {name: [] for name in sides}
            cpu: dict[str, list[float]] = {name: [] for name in sides}
            for run in range(runs):
                order = ["plain", "tls"] if run % 2 == 0 else ["tls", "plain"]
                for name in order:
                    url = sides[name].url + "/invocations"
                    cpu_before = sides[name].cpu_seconds()
                    if wrk:
                        result = run_wrk(wrk, url, body, KEY, CONNECTIONS, seconds)
                    else:
                        result = run_httpx(url, body, KEY, CONNECTIONS, seconds, ca_file=str(ca))
                    if result.failures:
                        raise RuntimeError(f"{name}: {result.failures} failed requests")
                    results[name].append(result)
                    used = sides[name].cpu_seconds() - cpu_before
                    cpu[name].append(used / max(result.requests, 1) * 1e6)
        finally:
            for side in sides.values():
                side.stop()
    print(
        f"load: {wrk or 'httpx (2 processes)'}, {CONNECTIONS} keep-alive connections, "
        f"{seconds:g} s x {runs} runs per side, alternating; 1-row /invocations; one worker"
    )
    print("| side | req/s (median) | p50 ms | p99 ms | server CPU µs/request |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in results.items():
        rps = statistics.median(r.requests_per_second for r in rows)
        p50 = statistics.median(r.p50_ms for r in rows)
        p99 = statistics.median(r.p99_ms for r in rows)
        per_request = statistics.median(cpu[name])
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {per_request:.0f} |")
    ratios = [
        t.requests_per_second / p.requests_per_second
        for t, p in zip(results["tls"], results["plain"], strict=True)
    ]
    cpu_ratios = [t / p for t, p in zip(cpu["tls"], cpu["plain"], strict=True)]
    print(
        f"TLS/plain req/s: median {statistics.median(ratios):.3f} "
        f"(range {min(ratios):.3f}-{max(ratios):.3f}, {runs} run pairs)"
    )
    print(
        f"TLS/plain server CPU per request: median {statistics.median(cpu_ratios):.3f} "
        f"(range {min(cpu_ratios):.3f}-{max(cpu_ratios):.3f})"
    )


if __name__ == "__main__":
    main()
