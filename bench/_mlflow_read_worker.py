"""MLflow's side of the tracking read bench; runs inside bench/.venv-mlflow.

Run as: python _mlflow_read_worker.py SPEC_JSON. Logs one run of ``keys`` x ``steps``
metric points into a fresh SQLite store with ``log_batch``, prints ``ready``, then answers
each ``measure`` line on stdin with one JSON line of timings (seconds), until ``quit``.
The parent process alternates these rounds with Shipyard's, so both see the same load.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric


def _prepare(spec: dict[str, Any]) -> tuple[MlflowClient, str, list[str]]:
    db = Path(spec["workdir"]) / "mlflow.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    client = MlflowClient()
    experiment_id = client.create_experiment(
        "bench", artifact_location=(db.parent / "artifacts").as_uri()
    )
    run_id = client.create_run(experiment_id).info.run_id
    keys = [f"k{i}" for i in range(spec["keys"])]
    pending: list[Metric] = []
    for step in range(spec["steps"]):
        now = int(time.time() * 1000)
        pending.extend(Metric(key, float(step), now, step) for key in keys)
        if len(pending) >= spec["batch"]:
            client.log_batch(run_id, metrics=pending)
            pending = []
    if pending:
        client.log_batch(run_id, metrics=pending)
    client.set_terminated(run_id)
    return client, run_id, keys


def _measure(client: MlflowClient, run_id: str, keys: list[str], calls: int) -> dict[str, float]:
    singles = []
    for _ in range(calls):
        start = time.perf_counter()
        run = client.get_run(run_id)
        singles.append(time.perf_counter() - start)
    assert len(run.data.metrics) == len(keys), run.data.metrics
    start = time.perf_counter()
    points = sum(len(client.get_metric_history(run_id, key)) for key in keys)
    history = time.perf_counter() - start
    assert points == len(keys) * (run.data.metrics[keys[0]] + 1), points
    return {"get_run": statistics.median(singles), "history": history}


def main() -> None:
    spec = json.loads(sys.argv[1])
    client, run_id, keys = _prepare(spec)
    print(json.dumps({"ready": True, "version": mlflow.__version__}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            return
        print(json.dumps(_measure(client, run_id, keys, int(command[1]))), flush=True)


if __name__ == "__main__":
    main()
