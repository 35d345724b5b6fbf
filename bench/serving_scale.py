"""Serving at scale: single-row requests at 8 and 32 connections, 1 and 2 workers, batching off/on.

    python bench/serving_scale.py            # 10 s per load run, 3 runs each, medians
    python bench/serving_scale.py --quick    # 3 s per load run, 1 run

Models: LightGBM (100 trees, the issue's target, also served by ``mlflow models
serve``), scikit-learn's GradientBoostingClassifier through Shipyard's lean
kernel, and the same GradientBoostingClassifier through its own
``predict_proba`` (a model whose single-row call is costly next to its batched
rate). The limit is the raw in-process batch ``predict_proba`` of each model.
Load comes from wrk on 127.0.0.1; server, wrk and workers share the machine.

Batching off and on (and MLflow, beside LightGBM) run at the same time and are
loaded in turn, run after run, so each set of runs sees about the same load
from the rest of a shared machine; ratios are medians of run-by-run ratios.
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
        self.runs_by: dict[tuple[str, str, int, str, int], list[float]] = {}

    def _load(self, server: RunningServer, connections: int) -> tuple[LoadResult, float]:
        url = f"{server.url}/invocations"
        before = server.cpu_seconds()
        if self.wrk:
            result = run_wrk(self.wrk, url, self.body, server.api_key, connections, self.seconds)
        else:
            result = run_httpx(url, self.body, server.api_key, connections, self.seconds)
        used = server.cpu_seconds() - before
        return result, used / max(result.requests, 1) * 1e6

    def compare(
        self, model: str, servers: dict[tuple[str, str], RunningServer], workers: int
    ) -> None:
        """Servers keyed (server, batching), loaded in turn run after run, order alternating.

        On a shared machine the load from elsewhere drifts; interleaving puts each
        set of runs under about the same load, so ratios taken run by run are
        steadier than the ratio of separately taken medians.
        """
        order = list(servers)
        for server in servers.values():
            self._load(server, 8)
        for connections in CONNECTIONS:
            runs: dict[tuple[str, str], list[tuple[LoadResult, float]]] = {k: [] for k in order}
            for i in range(self.runs):
                for key in order if i % 2 == 0 else order[::-1]:
                    runs[key].append(self._load(servers[key], connections))
            for (label, batching), measured in runs.items():
                shown: int | str = workers if label == "shipyard" else f"(beside w={workers})"
                self._record(model, label, shown, batching, connections, measured)
                rates = [r.requests_per_second for r, _ in measured]
                self.runs_by[(model, label, workers, batching, connections)] = rates

    def paired(
        self, model: str, workers: int, top: tuple[str, str], bottom: tuple[str, str]
    ) -> list[float]:
        """Run-by-run ratios of requests/s at 32 connections, ``top`` over ``bottom``."""
        over = self.runs_by.get((model, *top[:1], workers, *top[1:], 32), [])
        under = self.runs_by.get((model, *bottom[:1], workers, *bottom[1:], 32), [])
        return [a / b for a, b in zip(over, under, strict=False) if b]

    def _record(
        self,
        model: str,
        label: str,
        workers: int | str,
        batching: str,
        connections: int,
        runs: list[tuple[LoadResult, float]],
    ) -> None:
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
            f"{row.rps:8.0f} req/s  p99 {row.p99:6.2f} ms  "
            f"({', '.join(f'{r.requests_per_second:.0f}' for r in results)})",
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
                Row(
                    case.name,
                    f"limit: in-process {label}",
                    "-",
                    "-",
                    connections,
                    rate,
                    NAN,
                    NAN,
                    NAN,
                    0,
                )
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


def _serve_all(
    bench: ScaleBench,
    case: ModelCase,
    workdir: Path,
    workers: tuple[int, ...],
    peer: RunningServer | None,
) -> None:
    """Batching off and on (and the peer, if given), interleaved run by run."""
    for count in workers:
        servers: dict[tuple[str, str], RunningServer] = {}
        try:
            for batching in ("off", "on"):
                options = ("--batching",) if batching == "on" else ()
                if case.raw:
                    options += ("--raw",)
                logs = workdir / f"{case.name}-{count}-{batching}"
                logs.mkdir(exist_ok=True)
                servers[("shipyard", batching)] = start_our_server(
                    case.directory, logs, count, options
                )
            if peer is not None:
                servers[(peer.name, "-")] = peer
            bench.compare(case.name, servers, count)
        finally:
            for key, server in servers.items():
                if key[0] == "shipyard":
                    server.stop()


def _median(ratios: list[float]) -> str:
    if not ratios:
        return "n/a"
    return f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"


def _summary(bench: ScaleBench, workers: tuple[int, ...], mlflow: bool) -> list[str]:
    lines = []
    for count in workers:
        for batching in ("off", "on"):
            ours = bench.find("lightgbm", "shipyard", count, batching, 32)
            if ours is None:
                continue
            verdict = f"p99 {ours.p99:.1f} ms ({'<' if ours.p99 < 20 else '>='} 20 ms)"
            ratios = bench.paired("lightgbm", count, ("shipyard", batching), ("mlflow", "-"))
            against = f"{_median(ratios)} MLflow (target >= 30x)" if ratios else "MLflow n/a"
            lines.append(
                f"- LightGBM, {count} worker(s), batching {batching}, 32 connections: "
                f"{ours.rps:,.0f} req/s = {against}; {verdict}"
            )
    for model in ("lightgbm", "gbc", "gbc-raw"):
        for count in workers:
            on = bench.find(model, "shipyard", count, "on", 32)
            off = bench.find(model, "shipyard", count, "off", 32)
            if on is None or off is None:
                continue
            ratios = bench.paired(model, count, ("shipyard", "on"), ("shipyard", "off"))
            cpu = f"{off.cpu / on.cpu:.2f}x" if on.cpu else "n/a"
            target = "" if model == "lightgbm" else "; target >= 2x"
            lines.append(
                f"- {model}, {count} worker(s), 32 connections: batching on / off = "
                f"{_median(ratios)} run by run{target}; server CPU per request off / on = {cpu}"
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
        peer, peer_name = None, "skipped"
        if not args.skip_mlflow and "lightgbm" in args.models:
            venv = _mlflow_env.ensure_venv()
            model = _mlflow_env.save_model(workdir / "lightgbm", workdir / "mlflow-model", venv)
            peer = _mlflow_env.start_server(model, workdir, venv)
            peer_name = f"mlflow {_mlflow_env.mlflow_version(venv)}"
        try:
            for name in args.models:
                case = cases[name]
                bench.limit(case, frame)
                _serve_all(bench, case, workdir, workers, peer if name == "lightgbm" else None)
        finally:
            if peer is not None:
                peer.stop()

    print()
    print(
        f"single-row requests; peer: {peer_name}; "
        f"each row: median of {runs} run(s) of {seconds:g} s, servers interleaved run by run"
    )
    print("wrk (1 thread), the server's workers and the load share 2 cores")
    print()
    print(bench.table())
    print()
    for line in _summary(bench, workers, peer is not None):
        print(line)


if __name__ == "__main__":
    main()
