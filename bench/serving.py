"""Serving bench: Shipyard's data plane against MLflow, an empty route and raw predict.

    python bench/serving.py            # 10 s per load run, 3 runs each, medians
    python bench/serving.py --quick    # 3 s per load run, 1 run

Trains LightGBM (100 trees) on sklearn's breast cancer data, serves it with
Shipyard (uvicorn, 1 worker) and with ``mlflow models serve`` (1 worker, its own
virtualenv in bench/.venv-mlflow), and drives both with wrk on 127.0.0.1 only.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _mlflow_env
from _load import LoadResult, find_wrk, run_httpx, run_wrk
from _model import TREES, load_bench_predictor, train
from _servers import RunningServer, start_our_server

SIZES = (1, 100)
NAN = float("nan")
CONNECTIONS = (1, 8)


def _payload(frame: Any, rows: int, path: Path) -> Path:
    split = json.loads(frame.iloc[:rows].to_json(orient="split"))
    path.write_bytes(json.dumps({"dataframe_split": split}).encode())
    return path


def _timed(call: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Calls per second and median latency (ms) of ``call`` run for about ``seconds``."""
    call()
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return len(latencies) / sum(latencies), statistics.median(latencies) * 1e3


class Bench:
    """Runs every load configuration against the servers and keeps the medians."""

    def __init__(self, seconds: float, runs: int, workdir: Path) -> None:
        self.seconds = seconds
        self.runs = runs
        self.workdir = workdir
        self.wrk = find_wrk()
        self.rows: list[tuple[str, int, int | str, float, float, float, float, int]] = []
        self.rps: dict[tuple[str, int, int], float] = {}
        self.cpu: dict[tuple[str, int, int], float] = {}

    def load(
        self, server: RunningServer, path: str, body: Path, connections: int
    ) -> tuple[LoadResult, float]:
        """One load run, and the server's CPU microseconds per request during it."""
        url = f"{server.url}{path}"
        before = server.cpu_seconds()
        if self.wrk:
            result = run_wrk(self.wrk, url, body, server.api_key, connections, self.seconds)
        else:
            result = run_httpx(url, body, server.api_key, connections, self.seconds)
        used = server.cpu_seconds() - before
        return result, used / max(result.requests, 1) * 1e6

    def measure(
        self, label: str, server: RunningServer, path: str, bodies: dict[int, Path]
    ) -> None:
        self.load(server, path, bodies[1], 8)
        for rows, body in bodies.items():
            for connections in CONNECTIONS:
                runs = [self.load(server, path, body, connections) for _ in range(self.runs)]
                results = [result for result, _ in runs]
                failures = sum(r.failures for r in results)
                rps = statistics.median(r.requests_per_second for r in results)
                p50 = statistics.median(r.p50_ms for r in results)
                p99 = statistics.median(r.p99_ms for r in results)
                cpu = statistics.median(cpu for _, cpu in runs)
                self.rps[label, rows, connections] = rps
                self.cpu[label, rows, connections] = cpu
                self.rows.append((label, rows, connections, rps, p50, p99, cpu, failures))
                print(f"  {label:>24} rows={rows:<3} c={connections}: {rps:9.0f} req/s", flush=True)

    def raw(self, frame: Any, booster: Any, predictor: Any) -> None:
        for rows in SIZES:
            matrix = frame.iloc[:rows].to_numpy()
            calls, p50 = _timed(lambda m=matrix: booster.predict(m), min(self.seconds, 3))
            self.rows.append(("raw Booster.predict", rows, "-", calls, p50, NAN, 1e6 / calls, 0))
            calls, p50 = _timed(lambda m=matrix: predictor.predict(m), min(self.seconds, 3))
            self.rows.append(("raw Predictor.predict", rows, "-", calls, p50, NAN, 1e6 / calls, 0))

    def table(self) -> str:
        lines = [
            "| target | rows/request | connections | requests/s | p50 ms | p99 ms "
            "| server CPU µs/request | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for label, rows, conns, rps, p50, p99, cpu, failures in self.rows:
            p99_text = "-" if p99 != p99 else f"{p99:.3f}"
            lines.append(
                f"| {label} | {rows} | {conns} | {rps:,.0f} | {p50:.3f} | {p99_text} "
                f"| {cpu:,.1f} | {failures} |"
            )
        return "\n".join(lines)

    def ratio(self, top: str, bottom: str, rows: int, connections: int) -> float:
        """Throughput of ``top`` over ``bottom``."""
        below = self.rps.get((bottom, rows, connections), 0.0)
        return self.rps.get((top, rows, connections), 0.0) / below if below else NAN

    def cpu_ratio(self, top: str, bottom: str, rows: int, connections: int) -> float:
        """Server CPU per request of ``bottom`` over ``top``: the same ratio, free of load noise."""
        mine = self.cpu.get((top, rows, connections), 0.0)
        theirs = self.cpu.get((bottom, rows, connections), NAN)
        return theirs / mine if mine else NAN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per load run, 1 run")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 10)")
    parser.add_argument("--runs", type=int, help="runs per configuration (default 3)")
    parser.add_argument("--skip-mlflow", action="store_true", help="do not build or run MLflow")
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    runs = args.runs or (1 if args.quick else 3)

    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        workdir = Path(tmp)
        booster, frame = train(workdir / "model")
        predictor, source = load_bench_predictor(workdir / "model")
        bodies = {rows: _payload(frame, rows, workdir / f"body-{rows}.json") for rows in SIZES}
        bench = Bench(seconds, runs, workdir)
        print(
            f"load generator: {bench.wrk or 'httpx fallback'}; {seconds:g} s x {runs} runs",
            flush=True,
        )

        bench.raw(frame, booster, predictor)
        ours = start_our_server(workdir / "model", workdir)
        try:
            bench.measure("shipyard /invocations", ours, "/invocations", bodies)
            bench.measure("shipyard empty route", ours, "/bench/empty", bodies)
        finally:
            ours.stop()

        peer = "skipped"
        if not args.skip_mlflow:
            venv = _mlflow_env.ensure_venv()
            peer = f"mlflow {_mlflow_env.mlflow_version(venv)}"
            model = _mlflow_env.save_model(workdir / "model", workdir / "mlflow-model", venv)
            mlflow = _mlflow_env.start_server(model, workdir, venv)
            try:
                bench.measure("mlflow /invocations", mlflow, "/invocations", bodies)
            finally:
                mlflow.stop()

    print()
    print(f"LightGBM {TREES} trees, breast cancer (30 features); predictor: {source}; peer: {peer}")
    print(f"each load row: median of {runs} run(s) of {seconds:g} s; server and wrk share 2 cores")
    print()
    print(bench.table())
    print()
    ours, empty, mlflow = "shipyard /invocations", "shipyard empty route", "mlflow /invocations"
    print("ratios (throughput; in brackets the same from server CPU per request):")
    for top, bottom, target in ((ours, mlflow, "target >= 20x"), (ours, empty, "target >= 0.5")):
        for rows in SIZES:
            for connections in CONNECTIONS:
                by_rps = bench.ratio(top, bottom, rows, connections)
                by_cpu = bench.cpu_ratio(top, bottom, rows, connections)
                goal = f"  ({target})" if (rows, connections) == (1, 8) else ""
                print(
                    f"- {top} / {bottom}, {rows} row(s) @ {connections} connection(s): "
                    f"{by_rps:.2f} [{by_cpu:.2f}]{goal}"
                )


if __name__ == "__main__":
    main()
