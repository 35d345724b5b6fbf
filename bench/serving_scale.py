"""Serving at scale: single-row requests at 8 and 32 connections, 1 and 2 workers, batching off/on.

    python bench/serving_scale.py            # 10 s per load run, 3 runs each, medians
    python bench/serving_scale.py --quick    # 3 s per load run, 1 run

Models: LightGBM (100 trees, the issue's target, also served by ``mlflow models
serve``), scikit-learn's GradientBoostingClassifier through Shipyard's lean
kernel, and the same GradientBoostingClassifier through its own
``predict_proba`` (a model whose single-row call is costly next to its batched
rate). The limit is the raw in-process batch ``predict_proba`` of each model.
Load comes from wrk on 127.0.0.1; server, wrk and workers share the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _mlflow_env
from _load import LoadResult, find_wrk, run_httpx, run_wrk
from _model import load_bench_predictor, train, train_gbc
from _servers import RunningServer, start_our_server

CONNECTIONS = (8, 32)
WORKERS = (1, 2)
LIMIT_ROWS = 1024
NAN = float("nan")


@dataclass(frozen=True)
class Row:
    model: str
    server: str
    workers: int | str
    batching: str
    connections: int | str
    rps: float
    p50: float
    p99: float
    cpu: float
    failures: int


@dataclass(frozen=True)
class ModelCase:
    name: str
    directory: Path
    raw: bool
    estimator: Any


def _body(frame: Any, path: Path) -> Path:
    split = json.loads(frame.iloc[:1].to_json(orient="split"))
    path.write_bytes(json.dumps({"dataframe_split": split}).encode())
    return path


def _rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``call`` run for about ``seconds``."""
    call()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - started)


class ScaleBench:
    """Every load configuration against every server; keeps the medians."""

    def __init__(self, seconds: float, runs: int, body: Path) -> None:
        self.seconds = seconds
        self.runs = runs
        self.body = body
        self.wrk = find_wrk()
        self.rows: list[Row] = []

    def _load(self, server: RunningServer, connections: int) -> tuple[LoadResult, float]:
        url = f"{server.url}/invocations"
        before = server.cpu_seconds()
        if self.wrk:
            result = run_wrk(self.wrk, url, self.body, server.api_key, connections, self.seconds)
        else:
            result = run_httpx(url, self.body, server.api_key, connections, self.seconds)
        used = server.cpu_seconds() - before
        return result, used / max(result.requests, 1) * 1e6

    def measure(
        self, model: str, server: RunningServer, label: str, workers: int, batching: str
    ) -> None:
        self._load(server, 8)
        for connections in CONNECTIONS:
            runs = [self._load(server, connections) for _ in range(self.runs)]
            results = [r for r, _ in runs]
            row = Row(
                model,
                label,
                workers,
                batching,
                connections,
                statistics.median(r.requests_per_second for r in results),
                statistics.median(r.p50_ms for r in results),
                statistics.median(r.p99_ms for r in results),
                statistics.median(cpu for _, cpu in runs),
                sum(r.failures for r in results),
            )
            self.rows.append(row)
            print(
                f"  {model:>9} {label:>8} w={workers} batching={batching:<3} c={connections:<2}: "
                f"{row.rps:8.0f} req/s  p99 {row.p99:6.2f} ms",
                flush=True,
            )

    def limit(self, case: ModelCase, frame: Any) -> None:
        """The raw in-process model: one row per call, and big batches (rows/s)."""
        predictor, _ = load_bench_predictor(case.directory, raw=case.raw)
        one = frame.iloc[:1].to_numpy()
        batch = frame.sample(LIMIT_ROWS, replace=True, random_state=0).to_numpy()
        seconds = min(self.seconds, 3.0)
        single = _rate(lambda: predictor.predict(one), seconds)
        rows = _rate(lambda: predictor.predict(batch), seconds) * LIMIT_ROWS
        label = "predictor" if not case.raw else "predict_proba"
        for connections, rate in (("1 row/call", single), (f"{LIMIT_ROWS} rows/call", rows)):
            self.rows.append(
                Row(case.name, f"raw {label}", "-", "-", connections, rate, NAN, NAN, NAN, 0)
            )

    def find(
        self, model: str, server: str, workers: int, batching: str, connections: int
    ) -> Row | None:
        for row in self.rows:
            if (row.model, row.server, row.workers, row.batching, row.connections) == (
                model,
                server,
                workers,
                batching,
                connections,
            ):
                return row
        return None

    def table(self) -> str:
        lines = [
            "| model | server | workers | batching | connections | requests/s | p50 ms | p99 ms "
            "| server CPU µs/request | failures |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in self.rows:
            p50 = "-" if r.p50 != r.p50 else f"{r.p50:.2f}"
            p99 = "-" if r.p99 != r.p99 else f"{r.p99:.2f}"
            cpu = "-" if r.cpu != r.cpu else f"{r.cpu:,.0f}"
            lines.append(
                f"| {r.model} | {r.server} | {r.workers} | {r.batching} | {r.connections} "
                f"| {r.rps:,.0f} | {p50} | {p99} | {cpu} | {r.failures} |"
            )
        return "\n".join(lines)


def _serve_all(bench: ScaleBench, case: ModelCase, workdir: Path, workers: tuple[int, ...]) -> None:
    for count in workers:
        for batching in ("off", "on"):
            options = ("--batching",) if batching == "on" else ()
            if case.raw:
                options += ("--raw",)
            server = start_our_server(case.directory, workdir, count, options)
            try:
                bench.measure(case.name, server, "shipyard", count, batching)
            finally:
                server.stop()


def _ratio(top: Row | None, bottom: Row | None) -> str:
    if top is None or bottom is None or not bottom.rps:
        return "n/a"
    return f"{top.rps / bottom.rps:.1f}x"


def _summary(bench: ScaleBench, workers: tuple[int, ...], mlflow: bool) -> list[str]:
    lines = []
    for count in workers:
        for batching in ("off", "on"):
            ours = bench.find("lightgbm", "shipyard", count, batching, 32)
            theirs = bench.find("lightgbm", "mlflow", 1, "-", 32)
            if ours is None:
                continue
            verdict = f"p99 {ours.p99:.1f} ms ({'<' if ours.p99 < 20 else '>='} 20 ms)"
            against = (
                f"{_ratio(ours, theirs)} MLflow (target >= 30x)" if mlflow else "MLflow skipped"
            )
            lines.append(
                f"- LightGBM, {count} worker(s), batching {batching}, 32 connections: "
                f"{ours.rps:,.0f} req/s = {against}; {verdict}"
            )
    for model in ("gbc", "gbc-raw"):
        for count in workers:
            on = bench.find(model, "shipyard", count, "on", 32)
            off = bench.find(model, "shipyard", count, "off", 32)
            lines.append(
                f"- {model}, {count} worker(s), 32 connections: batching on / off = "
                f"{_ratio(on, off)} (target >= 2x)"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per load run, 1 run")
    parser.add_argument("--seconds", type=float, help="seconds per load run (default 10)")
    parser.add_argument("--runs", type=int, help="runs per configuration (default 3)")
    parser.add_argument("--skip-mlflow", action="store_true", help="do not build or run MLflow")
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKERS))
    parser.add_argument(
        "--models", nargs="+", default=["lightgbm", "gbc", "gbc-raw"], help="models to serve"
    )
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    runs = args.runs or (1 if args.quick else 3)
    workers = tuple(args.workers)

    with tempfile.TemporaryDirectory(prefix="shipyard-scale-") as tmp:
        workdir = Path(tmp)
        booster, frame = train(workdir / "lightgbm")
        gbc, _ = train_gbc(workdir / "gbc")
        cases = {
            "lightgbm": ModelCase("lightgbm", workdir / "lightgbm", False, booster),
            "gbc": ModelCase("gbc", workdir / "gbc", False, gbc),
            "gbc-raw": ModelCase("gbc-raw", workdir / "gbc", True, gbc),
        }
        bench = ScaleBench(seconds, runs, _body(frame, workdir / "body.json"))
        print(f"load generator: {bench.wrk or 'httpx fallback'}; {seconds:g} s x {runs} runs")
        for name in args.models:
            case = cases[name]
            bench.limit(case, frame)
            _serve_all(bench, case, workdir, workers)
        peer = "skipped"
        if not args.skip_mlflow and "lightgbm" in args.models:
            venv = _mlflow_env.ensure_venv()
            peer = f"mlflow {_mlflow_env.mlflow_version(venv)}"
            model = _mlflow_env.save_model(workdir / "lightgbm", workdir / "mlflow-model", venv)
            server = _mlflow_env.start_server(model, workdir, venv)
            try:
                bench.measure("lightgbm", server, "mlflow", 1, "-")
            finally:
                server.stop()

    print()
    print(f"single-row requests; peer: {peer}; each row: median of {runs} run(s) of {seconds:g} s")
    print("wrk (1 thread), the server's workers and the load share 2 cores")
    print()
    print(bench.table())
    print()
    for line in _summary(bench, workers, peer != "skipped"):
        print(line)


if __name__ == "__main__":
    main()
