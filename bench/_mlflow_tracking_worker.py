"""MLflow's side of the tracking bench; runs inside bench/.venv-mlflow.

Run as: python _mlflow_tracking_worker.py SPEC_JSON. Each case gets a fresh SQLite
file, migrated and warmed up by one finished run before the clock starts. Prints
one JSON line: MLflow's version and, per case, the timed loop's wall and CPU seconds.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import sqlalchemy as sa
from mlflow import MlflowClient
from mlflow.entities import Metric

EXPERIMENT = "bench"


class Stopwatch:
    """Wall and process CPU seconds between ``start`` and ``stop``, resumable."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def start(self) -> Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def stop(self) -> list[float]:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu
        return [self.wall, self.cpu]


def _wal(dbapi_connection: Any, _record: Any) -> None:
    """Shipyard's SQLite pragmas, for the variant that gives MLflow the same ones."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _open(db: Path) -> tuple[MlflowClient, str]:
    """A fresh, migrated store with one finished warm-up run; the bench experiment's id."""
    db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    client = MlflowClient()
    experiment_id = client.create_experiment(
        EXPERIMENT, artifact_location=(db.parent / "artifacts").as_uri()
    )
    with mlflow.start_run(experiment_id=experiment_id, run_name="warm-up"):
        mlflow.log_params({"p": "1"})
        mlflow.log_metric("k0", 0.0, step=0)
        client.log_batch(mlflow.active_run().info.run_id, metrics=[Metric("k1", 0.0, 0, 0)])
    return client, experiment_id


def _query(db: Path, sql: str, *args: str) -> Any:
    with sqlite3.connect(db) as connection:
        (value,) = connection.execute(sql, args).fetchone()
    connection.close()
    return value


def _check_metrics(db: Path, run_id: str, expected: int) -> None:
    stored = _query(db, "select count(*) from metrics where run_uuid = ?", run_id)
    assert stored == expected, f"MLflow stored {stored} of {expected} metrics"


def batch(spec: dict[str, Any], db: Path) -> list[float]:
    """``MlflowClient.log_batch`` with lists of ``spec['batch']`` metrics built in the loop."""
    client, experiment_id = _open(db)
    run_id = client.create_run(experiment_id).info.run_id
    keys = [f"k{i}" for i in range(spec["keys"])]
    size = spec["batch"]
    clock = Stopwatch().start()
    pending: list[Metric] = []
    for step in range(spec["steps"]):
        now = int(time.time() * 1000)
        pending.extend(Metric(key, float(step), now, step) for key in keys)
        if len(pending) >= size:
            client.log_batch(run_id, metrics=pending)
            pending = []
    if pending:
        client.log_batch(run_id, metrics=pending)
    seconds = clock.stop()
    client.set_terminated(run_id)
    _check_metrics(db, run_id, spec["steps"] * len(keys))
    return seconds


def _single(spec: dict[str, Any], db: Path, synchronous: bool) -> list[float]:
    _, experiment_id = _open(db)
    keys = spec["keys"]
    with mlflow.start_run(experiment_id=experiment_id) as run:
        clock = Stopwatch().start()
        for i in range(spec["single"]):
            mlflow.log_metric(f"k{i % keys}", float(i), step=i // keys, synchronous=synchronous)
        if not synchronous:
            mlflow.flush_async_logging()
        seconds = clock.stop()
    _check_metrics(db, run.info.run_id, spec["single"])
    return seconds


def single_sync(spec: dict[str, Any], db: Path) -> list[float]:
    """``mlflow.log_metric`` one point at a time (a transaction each)."""
    return _single(spec, db, synchronous=True)


def single_async(spec: dict[str, Any], db: Path) -> list[float]:
    """``mlflow.log_metric(..., synchronous=False)``, MLflow's background batching; flushed."""
    return _single(spec, db, synchronous=False)


def runs(spec: dict[str, Any], db: Path) -> list[float]:
    """``mlflow.start_run`` + ``log_params`` + ``end_run``, ``spec['runs']`` times."""
    _, experiment_id = _open(db)
    params = {f"p{i}": str(i) for i in range(spec["params"])}
    clock = Stopwatch().start()
    for _ in range(spec["runs"]):
        mlflow.start_run(experiment_id=experiment_id)
        mlflow.log_params(params)
        mlflow.end_run()
    seconds = clock.stop()
    finished = _query(db, "select count(*) from runs where status = 'FINISHED'")
    assert finished == spec["runs"] + 1, f"MLflow finished {finished} runs"
    return seconds


CASES: dict[str, Callable[[dict[str, Any], Path], list[float]]] = {
    "batch": batch,
    "batch_wal": batch,
    "single_sync": single_sync,
    "single_async": single_async,
    "runs": runs,
}


def main() -> None:
    spec = json.loads(sys.argv[1])
    workdir = Path(spec["workdir"])
    seconds: dict[str, list[float]] = {}
    for case in spec["cases"]:
        wal = case.endswith("_wal")
        db = workdir / case / "mlflow.db"
        if wal:
            sa.event.listen(sa.engine.Engine, "connect", _wal)
        try:
            seconds[case] = CASES[case](spec, db)
        finally:
            if wal:
                sa.event.remove(sa.engine.Engine, "connect", _wal)
        journal = _query(db, "PRAGMA journal_mode")
        assert journal == ("wal" if wal else "delete"), f"{case}: journal_mode is {journal}"
    print(json.dumps({"version": mlflow.__version__, "seconds": seconds}))


if __name__ == "__main__":
    main()
