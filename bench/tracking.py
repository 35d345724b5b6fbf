"""Tracking bench: Shipyard's metric and run logging against MLflow, both on SQLite files.

    python bench/tracking.py            # 100,000 metrics, 200 runs, medians of 3 repetitions
    python bench/tracking.py --quick    # 20,000 metrics, 50 runs, 1 repetition
    python bench/tracking.py --side read   # only the read side (or --side write)

Every case gets a fresh SQLite file in one temporary directory (same disk for both
sides), migrated and warmed up by one finished run before the clock starts; only
the logging loop is timed (final flush included), never imports or start-up.
MLflow runs in its own virtualenv (bench/.venv-mlflow) in a subprocess that times
itself; each group of Shipyard cases is followed at once by MLflow's, so both
see the same machine load. Prints a markdown table of medians. The read side
(``_tracking_reads.py``) reads a 100,000-point run back: ``get_run`` and the full metric
history, alternating rounds with MLflow, and prints its own table.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import _mlflow_env
from _live_api import LiveServer
from _tracking_reads import READ_FULL, READ_QUICK, run_reads
from shipyard.client import ActiveRun, Client, HttpTransport
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none

EXPERIMENT = "bench"
WORKER = Path(__file__).with_name("_mlflow_tracking_worker.py")
TARGET = 10.0
Timing = tuple[float, float]


@dataclass(frozen=True)
class Sizes:
    """How much each case logs; the same numbers go to both sides."""

    keys: int
    steps: int
    batch: int
    single: int
    runs: int
    params: int

    @property
    def metrics(self) -> int:
        return self.keys * self.steps


FULL = Sizes(keys=10, steps=10_000, batch=1000, single=2000, runs=200, params=5)
QUICK = Sizes(keys=10, steps=2000, batch=1000, single=500, runs=50, params=5)


class Stopwatch:
    """Wall and process CPU seconds (every thread) since it was made."""

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def stop(self) -> Timing:
        return time.perf_counter() - self._wall, time.process_time() - self._cpu


@contextmanager
def shipyard(home: Path, http: bool = False) -> Iterator[Client]:
    """A client on a fresh home, in-process or over HTTP, after one finished warm-up run."""
    settings = Settings(home=home)
    if http:
        platform = Platform.open(settings)
        bootstrap(platform)
        issued = issue_admin_key_if_none(platform)
        assert issued is not None
        server = LiveServer(platform)
        client = Client(transport=HttpTransport(server.url, issued.token))
    else:
        client = Client(settings=settings)
    try:
        with client.start_run(experiment=EXPERIMENT, name="warm-up", params={"p": 1}) as run:
            run.log_metric("k0", 0.0)
        yield client
    finally:
        client.close()
        if http:
            server.close()
            platform.close()


def _query(home: Path, sql: str, *args: str) -> Any:
    with sqlite3.connect(home / "shipyard.db") as connection:
        (value,) = connection.execute(sql, args).fetchone()
    connection.close()
    return value


def _check_metrics(home: Path, run: ActiveRun, expected: int) -> None:
    stored = _query(home, "select count(*) from run_metrics where run_id = ?", run.id)
    assert stored == expected, f"Shipyard stored {stored} of {expected} metrics"


def sy_batch(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """The SDK's raw batch call, lists of ``sizes.batch`` metrics built in the loop."""
    with shipyard(home) as client:
        run = client.start_run(experiment=EXPERIMENT)
        keys = [f"k{i}" for i in range(sizes.keys)]
        clock = Stopwatch()
        pending: list[dict[str, Any]] = []
        for step in range(sizes.steps):
            now = time.time()
            pending.extend(
                {"key": key, "value": float(step), "step": step, "timestamp": now} for key in keys
            )
            if len(pending) >= sizes.batch:
                client.transport.call("tracking.log_batch", run_id=run.id, metrics=pending)
                pending = []
        if pending:
            client.transport.call("tracking.log_batch", run_id=run.id, metrics=pending)
        timing = clock.stop()
        run.end()
    _check_metrics(home, run, sizes.metrics)
    return {"batch": timing}


def _sdk_metrics(sizes: Sizes, home: Path, http: bool) -> tuple[Timing, Timing]:
    with shipyard(home, http) as client:
        run = client.start_run(experiment=EXPERIMENT)
        keys = [f"k{i}" for i in range(sizes.keys)]
        clock = Stopwatch()
        for step in range(sizes.steps):
            run.log_metrics({key: float(step) for key in keys}, step=step)
        run.flush()
        logging = clock.stop()
        clock = Stopwatch()
        run.end()
        ending = clock.stop()
    _check_metrics(home, run, sizes.metrics)
    return logging, ending


def sy_sdk(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """``run.log_metrics`` per step, in-process; the SDK sends batches of 1000."""
    logging, ending = _sdk_metrics(sizes, home, http=False)
    return {"sdk": logging, "end_run": ending}


def sy_http(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """``run.log_metrics`` per step over HTTP to the REST API on 127.0.0.1."""
    return {"http": _sdk_metrics(sizes, home, http=True)[0]}


def raw_sqlite(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """The floor: stdlib sqlite3 ``executemany``, Shipyard's table, index and pragmas."""
    home.mkdir(parents=True)
    connection = sqlite3.connect(home / "raw.db")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE run_metrics (id INTEGER PRIMARY KEY, run_id VARCHAR(32), key VARCHAR(250),"
        " value FLOAT, step BIGINT, timestamp FLOAT)"
    )
    connection.execute(
        "CREATE INDEX ix_run_metrics ON run_metrics (run_id, key, step, timestamp, value)"
    )
    connection.commit()
    insert = "INSERT INTO run_metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)"
    run_id, keys = "0" * 32, [f"k{i}" for i in range(sizes.keys)]
    clock = Stopwatch()
    pending: list[tuple[str, str, float, int, float]] = []
    for step in range(sizes.steps):
        now = time.time()
        pending.extend((run_id, key, float(step), step, now) for key in keys)
        if len(pending) >= sizes.batch:
            with connection:
                connection.executemany(insert, pending)
            pending = []
    if pending:
        with connection:
            connection.executemany(insert, pending)
    timing = clock.stop()
    connection.close()
    return {"raw": timing}


def sy_single(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """``run.log_metric`` one point at a time (buffered by the SDK), flush included."""
    with shipyard(home) as client:
        run = client.start_run(experiment=EXPERIMENT)
        clock = Stopwatch()
        for i in range(sizes.single):
            run.log_metric(f"k{i % sizes.keys}", float(i), step=i // sizes.keys)
        run.flush()
        timing = clock.stop()
        run.end()
    _check_metrics(home, run, sizes.single)
    return {"single": timing}


def _runs(sizes: Sizes, home: Path, http: bool) -> Timing:
    params = {f"p{i}": str(i) for i in range(sizes.params)}
    with shipyard(home, http) as client:
        clock = Stopwatch()
        for _ in range(sizes.runs):
            client.start_run(experiment=EXPERIMENT, params=params).end()
        timing = clock.stop()
    finished = _query(home, "select count(*) from runs where status = 'finished'")
    assert finished == sizes.runs + 1, f"Shipyard finished {finished} runs"
    return timing


def sy_runs(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """``client.start_run(params=...)`` then ``end()``, in-process."""
    return {"runs": _runs(sizes, home, http=False)}


def sy_runs_http(sizes: Sizes, home: Path) -> dict[str, Timing]:
    """The same over HTTP."""
    return {"runs_http": _runs(sizes, home, http=True)}


Case = Callable[[Sizes, Path], dict[str, Timing]]
GROUPS: tuple[tuple[tuple[Case, ...], tuple[str, ...]], ...] = (
    ((sy_batch, sy_sdk, sy_http, raw_sqlite), ("batch", "batch_wal")),
    ((sy_single,), ("single_sync", "single_async")),
    ((sy_runs, sy_runs_http), ("runs",)),
)


def run_mlflow(
    sizes: Sizes, cases: tuple[str, ...], workdir: Path
) -> tuple[str, dict[str, Timing]]:
    """Run MLflow's cases in its virtualenv; its version and each case's timing."""
    venv = _mlflow_env.ensure_venv()
    workdir.mkdir(parents=True)
    spec = {"workdir": str(workdir), "cases": list(cases), **asdict(sizes)}
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(WORKER), json.dumps(spec)],
        capture_output=True,
        text=True,
        cwd=workdir,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the MLflow worker failed:\n{done.stderr[-3000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["version"], {case: (w, c) for case, (w, c) in answer["seconds"].items()}


@dataclass(frozen=True)
class Row:
    label: str
    unit: str
    count: Callable[[Sizes], int]
    shipyard: str
    mlflow: str


def _metrics(sizes: Sizes) -> int:
    return sizes.metrics


def _single(sizes: Sizes) -> int:
    return sizes.single


def _run_count(sizes: Sizes) -> int:
    return sizes.runs


ROWS = (
    Row(
        "batched, 1000 per call: Shipyard `log_batch` vs MLflow `MlflowClient.log_batch`",
        "metrics/s",
        _metrics,
        "batch",
        "batch",
    ),
    Row(
        "batched: Shipyard SDK `run.log_metrics` (flushes 1000) vs MLflow `log_batch`",
        "metrics/s",
        _metrics,
        "sdk",
        "batch",
    ),
    Row(
        "batched: Shipyard SDK over HTTP (127.0.0.1) vs MLflow `log_batch` (direct, no server)",
        "metrics/s",
        _metrics,
        "http",
        "batch",
    ),
    Row(
        "batched: Shipyard `log_batch` vs MLflow `log_batch` given WAL + synchronous=NORMAL",
        "metrics/s",
        _metrics,
        "batch",
        "batch_wal",
    ),
    Row(
        "floor: sqlite3 `executemany`, 1000 per commit, Shipyard's schema, vs MLflow `log_batch`",
        "metrics/s",
        _metrics,
        "raw",
        "batch",
    ),
    Row(
        "one per call: Shipyard `run.log_metric` (buffered) vs MLflow `mlflow.log_metric`",
        "metrics/s",
        _single,
        "single",
        "single_sync",
    ),
    Row(
        "one per call: Shipyard `run.log_metric` vs MLflow `log_metric(synchronous=False)`",
        "metrics/s",
        _single,
        "single",
        "single_async",
    ),
    Row(
        "runs, 5 params: Shipyard `start_run(params=)` + `end` vs MLflow `start_run` +"
        " `log_params` + `end_run`",
        "runs/s",
        _run_count,
        "runs",
        "runs",
    ),
    Row(
        "runs, 5 params: Shipyard over HTTP vs MLflow (direct)",
        "runs/s",
        _run_count,
        "runs_http",
        "runs",
    ),
)


def table(sizes: Sizes, ours: dict[str, Timing], theirs: dict[str, Timing]) -> str:
    lines = [
        "| workload | N | Shipyard | MLflow | ratio (wall) | ratio (CPU) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in ROWS:
        count = row.count(sizes)
        (our_wall, our_cpu), (their_wall, their_cpu) = ours[row.shipyard], theirs[row.mlflow]
        lines.append(
            f"| {row.label} | {count:,} | {count / our_wall:,.0f} {row.unit}"
            f" | {count / their_wall:,.0f} {row.unit} | {their_wall / our_wall:.1f}x"
            f" | {their_cpu / our_cpu:.1f}x |"
        )
    return "\n".join(lines)


def _medians(samples: dict[str, list[Timing]]) -> dict[str, Timing]:
    return {
        case: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for case, runs in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N, one repetition")
    parser.add_argument("--reps", type=int, help="repetitions (default 3, or 1 with --quick)")
    parser.add_argument("--side", choices=("both", "write", "read"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-tracking-") as tmp:
        if args.side in ("both", "write"):
            writes(args.quick, args.reps, Path(tmp) / "writes")
        if args.side in ("both", "read"):
            sizes = READ_QUICK if args.quick else READ_FULL
            table = run_reads(sizes, Path(tmp) / "reads", lambda line: print(line, flush=True))
            print()
            print(table)


def writes(quick: bool, reps_asked: int | None, tmp: Path) -> None:
    """The write side: logging metrics and runs, Shipyard vs MLflow, medians of reps."""
    sizes = QUICK if quick else FULL
    reps = reps_asked or (1 if quick else 3)
    ours: dict[str, list[Timing]] = {}
    theirs: dict[str, list[Timing]] = {}
    version, load_before = "?", os.getloadavg()[0]
    for rep in range(reps):
        for number, (cases, mlflow_cases) in enumerate(GROUPS):
            root = tmp / f"rep{rep}" / f"group{number}"
            for case in cases:
                for name, timing in case(sizes, root / "shipyard" / case.__name__).items():
                    ours.setdefault(name, []).append(timing)
                    print(f"rep {rep + 1}/{reps} shipyard {name}: {timing[0]:.2f} s", flush=True)
            version, timings = run_mlflow(sizes, mlflow_cases, root / "mlflow")
            for name, timing in timings.items():
                theirs.setdefault(name, []).append(timing)
                print(f"rep {rep + 1}/{reps} mlflow {name}: {timing[0]:.2f} s", flush=True)
    ours_median = _medians(ours)
    print()
    print(table(sizes, ours_median, _medians(theirs)))
    print()
    print(
        f"Medians of {reps} repetition(s); metrics runs log {sizes.keys} keys x {sizes.steps:,}"
        f" steps; MLflow {version}, SQLite store with its default pragmas (rollback journal,"
        " synchronous=FULL) unless noted; Shipyard uses WAL + synchronous=NORMAL."
        f" {os.cpu_count()} CPUs; 1-minute load average {load_before:.1f} at the start,"
        f" {os.getloadavg()[0]:.1f} at the end. Ratio = Shipyard throughput / MLflow"
        " throughput, by wall time and by process CPU time (all threads; the HTTP rows include"
        f" the in-process server). Not timed: ending the {sizes.metrics:,}-point Shipyard run"
        f" took a further {ours_median['end_run'][0]:.2f} s."
        f" Target: >= {TARGET:.0f}x MLflow on batched metrics."
    )


if __name__ == "__main__":
    main()
