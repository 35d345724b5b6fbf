"""The read side of the tracking bench: a run of 100,000 metric points, read back.

Both sides log the same run (``keys`` x ``steps`` points, batches of 1000) into a fresh
SQLite file, then rounds alternate: Shipyard in-process, Shipyard over HTTP, MLflow (a
long-lived worker in its virtualenv, so its imports and store stay warm as ours do).
Per round: ``get_run`` (median of several calls) and the full history (every key, every
point). Each round gives a ratio MLflow time / Shipyard time; the table shows the
median ratio and its range over the rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _mlflow_env
from _live_api import LiveServer
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none

WORKER = Path(__file__).with_name("_mlflow_read_worker.py")


@dataclass(frozen=True)
class ReadSizes:
    keys: int
    steps: int
    batch: int
    rounds: int
    calls: int  # get_run calls per round (the median is kept)


READ_FULL = ReadSizes(keys=10, steps=10_000, batch=1000, rounds=7, calls=20)
READ_QUICK = ReadSizes(keys=10, steps=2000, batch=1000, rounds=3, calls=5)


class ShipyardSide:
    """One home with the logged run, read in-process and through a live REST server."""

    def __init__(self, sizes: ReadSizes, home: Path) -> None:
        settings = Settings(home=home)
        self.local = Client(settings=settings)
        self.platform = Platform.open(settings)
        bootstrap(self.platform)
        issued = issue_admin_key_if_none(self.platform)
        assert issued is not None
        self.server = LiveServer(self.platform)
        self.http = Client(transport=HttpTransport(self.server.url, issued.token))
        self.keys = [f"k{i}" for i in range(sizes.keys)]
        run = self.local.start_run(experiment="bench")
        pending: list[dict[str, Any]] = []
        for step in range(sizes.steps):
            now = time.time()
            pending.extend(
                {"key": k, "value": float(step), "step": step, "timestamp": now} for k in self.keys
            )
            if len(pending) >= sizes.batch:
                self.local.transport.call("tracking.log_batch", run_id=run.id, metrics=pending)
                pending = []
        if pending:
            self.local.transport.call("tracking.log_batch", run_id=run.id, metrics=pending)
        run.end()
        self.run_id, self.points = run.id, sizes.keys * sizes.steps

    def measure(self, client: Client, calls: int) -> dict[str, float]:
        singles = []
        for _ in range(calls):
            start = time.perf_counter()
            info = client.tracking.get_run(self.run_id)
            singles.append(time.perf_counter() - start)
        assert len(info.metrics) == len(self.keys), info.metrics
        start = time.perf_counter()
        series = client.tracking.metric_series(self.run_id)
        columns = time.perf_counter() - start
        assert sum(len(s.steps) for s in series.values()) == self.points
        start = time.perf_counter()
        points = sum(len(client.tracking.metric_history(self.run_id, k)) for k in self.keys)
        objects = time.perf_counter() - start
        assert points == self.points, points
        return {"get_run": statistics.median(singles), "history": columns, "points": objects}

    def close(self) -> None:
        self.http.close()
        self.local.close()
        self.server.close()
        self.platform.close()


class MlflowSide:
    """MLflow's worker process: prepared once, then one ``measure`` per round."""

    def __init__(self, sizes: ReadSizes, workdir: Path) -> None:
        venv = _mlflow_env.ensure_venv()
        spec = {"workdir": str(workdir), **{k: getattr(sizes, k) for k in ("keys", "steps")}}
        spec["batch"] = sizes.batch
        env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        self.process = subprocess.Popen(
            [str(venv / "bin" / "python"), str(WORKER), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=workdir.parent,
            env=env,
        )
        self.version = self._answer()["version"]

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the MLflow read worker stopped")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def measure(self, calls: int) -> dict[str, float]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"measure {calls}\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait(timeout=60)


ROWS: tuple[tuple[str, str, str], ...] = (
    ("`get_run` (10 latest metrics): Shipyard SDK in-process vs MLflow", "local", "get_run"),
    ("`get_run`: Shipyard SDK over HTTP (127.0.0.1) vs MLflow (direct)", "http", "get_run"),
    (
        "full history, columns: Shipyard `metric_series` in-process vs MLflow"
        " `get_metric_history` per key",
        "local",
        "history",
    ),
    ("full history, columns: Shipyard `metric_series` over HTTP vs MLflow", "http", "history"),
    (
        "full history, point objects: Shipyard `metric_history` per key in-process vs MLflow",
        "local",
        "points",
    ),
    (
        "full history, point objects: Shipyard `metric_history` over HTTP vs MLflow",
        "http",
        "points",
    ),
)


def run_reads(sizes: ReadSizes, root: Path, log: Callable[[str], None]) -> str:
    """Prepare both sides, alternate the rounds, and return the markdown table."""
    ours = ShipyardSide(sizes, root / "shipyard")
    theirs = MlflowSide(sizes, root / "mlflow")
    samples: dict[str, list[dict[str, float]]] = {"local": [], "http": [], "mlflow": []}
    try:
        for number in range(sizes.rounds):
            samples["local"].append(ours.measure(ours.local, sizes.calls))
            samples["http"].append(ours.measure(ours.http, sizes.calls))
            samples["mlflow"].append(theirs.measure(sizes.calls))
            log(f"read round {number + 1}/{sizes.rounds}:")
            for side in ("local", "http", "mlflow"):
                timings = ", ".join(f"{k} {v:.4f} s" for k, v in samples[side][-1].items())
                log(f"  {side}: {timings}")
    finally:
        ours.close()
        theirs.close()
    return _table(sizes, samples, theirs.version)


def _table(sizes: ReadSizes, samples: dict[str, list[dict[str, float]]], version: str) -> str:
    lines = [
        f"| read, one run of {sizes.keys * sizes.steps:,} points | Shipyard (median)"
        " | MLflow (median) | ratio, median (range) |",
        "|---|---:|---:|---:|",
    ]
    for label, side, case in ROWS:
        mine = [s[case] for s in samples[side]]
        peer = [s["history" if case == "points" else case] for s in samples["mlflow"]]
        ratios = [p / m for p, m in zip(peer, mine, strict=True)]
        lines.append(
            f"| {label} | {statistics.median(mine) * 1000:,.1f} ms"
            f" | {statistics.median(peer) * 1000:,.1f} ms | {statistics.median(ratios):.1f}x"
            f" ({min(ratios):.1f}x to {max(ratios):.1f}x) |"
        )
    lines.append("")
    lines.append(
        f"{sizes.rounds} alternating rounds; `get_run` is the median of {sizes.calls} calls per"
        f" round; the history reads every point of {sizes.keys} keys x {sizes.steps:,} steps"
        f" (MLflow: `get_metric_history` once per key). MLflow {version}, SQLite store. Ratio"
        " = MLflow time / Shipyard time per round (higher is better for Shipyard)."
    )
    return "\n".join(lines)
