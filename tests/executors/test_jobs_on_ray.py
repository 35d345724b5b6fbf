"""The same jobs on both executors: a training job and a batch transform job run with
``executor: local`` and with ``executor: ray://...`` (the session's real Ray head) and
give the same metrics, model and outputs; cancelling a Ray-executed training job ends its
task on the cluster.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import lightgbm
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_breast_cancer
from tests.edge.edgekit import ingest_frame, numeric_frame, register_fitted, signature_of
from tests.executors.conftest import RayHead

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.datasets import find_version, ingest
from shipyard.platform import Platform
from shipyard.security import ADMIN, bootstrap, context_for

FEATURES = [f"f{i}" for i in range(5)]
FIT_TITLE = "ray::shipyard.jobs._train_task:fit_task"


def _bc_parquet() -> bytes:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, -6:]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def installations(
    ray_head: RayHead, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, tuple[Client, Platform]]]:
    """Two installations, the same data in each: one on the local executor, one on Ray."""
    on_ray = {"executor": ray_head.address, "ray_token_file": ray_head.token_file}
    rows = numeric_frame(2000, 5, seed=5)
    booster = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=7, verbose=-1)
    booster.fit(rows[FEATURES].to_numpy(), rows["y"])
    found = {}
    for name, extra in (("local", {}), ("ray", on_ray)):
        settings = Settings(home=tmp_path_factory.mktemp(f"jobs-{name}"), **extra)  # type: ignore[arg-type]
        platform = Platform.open(settings)
        bootstrap(platform)
        ingest(context_for(platform, ADMIN), "bc", _bc_parquet(), "bc.parquet")
        dataset = ingest_frame(platform, "numbers", rows)
        signature = signature_of(rows[[*FEATURES, "y"]], "y", [0, 1])
        register_fitted(platform, "m", booster, signature, dataset)
        found[name] = (Client(settings=settings), platform)
    yield found
    for client, platform in found.values():
        client.close()
        platform.close()


@pytest.fixture
def homes(installations: dict[str, tuple[Client, Platform]]) -> dict[str, Client]:
    return {name: client for name, (client, _) in installations.items()}


def _titles() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


def _wait_for(predicate: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_training_job_gives_the_same_model_on_both(homes: dict[str, Client]) -> None:
    spec = {
        "dataset": "bc@1",
        "target": "target",
        "task": "classification",
        "estimator": "lightgbm.LGBMClassifier",
        "params": {"n_estimators": 30, "num_leaves": 7, "n_jobs": 1},
        "cpus": 1,
        "memory_mb": 1024,
    }
    jobs = {name: client.training.train(spec, timeout=240) for name, client in homes.items()}
    assert {name: job.status for name, job in jobs.items()} == {
        "local": "succeeded",
        "ray": "succeeded",
    }
    runs = {name: homes[name].tracking.get_run(job.run_id or "") for name, job in jobs.items()}
    scores = {
        name: {k: v for k, v in run.metrics.items() if not k.startswith("system/")}
        for name, run in runs.items()
    }
    assert scores["ray"] == scores["local"] and "accuracy" in scores["local"]
    assert runs["ray"].params == runs["local"].params
    digests = {name: {a.path: a.digest for a in run.artifacts} for name, run in runs.items()}
    assert digests["ray"] == digests["local"]
    assert runs["ray"].tags["shipyard.executor"].startswith("ray://127.0.0.1:")
    assert runs["local"].tags["shipyard.executor"] == "local"
    record = jobs["ray"].resources
    assert record is not None and record.executor.startswith("ray://") and record.tasks == 1
    assert record.cpu_seconds > 0 and record.peak_memory_mb > 0
    assert "(task) loaded 569 rows" in homes["ray"].training.logs(jobs["ray"].id).text
    _wait_for(lambda: "1 task(s) on ray://" in homes["ray"].training.logs(jobs["ray"].id).text)


def test_a_batch_transform_gives_the_same_output_on_both(
    homes: dict[str, Client], installations: dict[str, tuple[Client, Platform]]
) -> None:
    jobs = {
        name: client.batch.transform(
            "m@1",
            "numbers@1",
            "scored",
            keep_columns=["f0"],
            chunk_rows=300,
            workers=2,
            timeout=240,
        )
        for name, client in homes.items()
    }
    assert {name: job.status for name, job in jobs.items()} == {
        "local": "succeeded",
        "ray": "succeeded",
    }
    assert jobs["ray"].chunks_done == jobs["ray"].chunks_total == 7
    outputs = {}
    for name, (_, platform) in installations.items():
        with platform.db.session() as session:
            outputs[name] = find_version(session, "scored", 1).digest
    assert outputs["ray"] == outputs["local"]
    record = jobs["ray"].resources
    assert record is not None and record.tasks == 7 and record.executor.startswith("ray://")


def test_cancelling_a_ray_training_job_ends_its_task(homes: dict[str, Client]) -> None:
    client = homes["ray"]
    spec = {
        "dataset": "bc@1",
        "target": "target",
        "task": "classification",
        "estimator": "sklearn.ensemble.GradientBoostingClassifier",
        "params": {"n_estimators": 1_000_000},
    }
    job = client.training.submit(spec)
    _wait_for(lambda: any(FIT_TITLE in title for title in _titles()))
    cancelled = client.training.cancel(job.id)
    assert cancelled.status == "cancelled"
    _wait_for(lambda: not any(FIT_TITLE in title for title in _titles()), timeout=60)
    assert "cancelled 1 task(s) on ray://" in client.training.logs(job.id).text


def test_a_ray_training_job_past_its_max_runtime_ends_its_task(homes: dict[str, Client]) -> None:
    client = homes["ray"]
    spec = {
        "dataset": "bc@1",
        "target": "target",
        "task": "classification",
        "estimator": "sklearn.ensemble.GradientBoostingClassifier",
        "params": {"n_estimators": 1_000_000},
        "max_runtime": 12,
    }
    job = client.training.submit(spec)
    _wait_for(lambda: client.training.get(job.id).done, timeout=120)
    assert client.training.get(job.id).status == "timed_out"
    _wait_for(lambda: not any(FIT_TITLE in title for title in _titles()), timeout=60)
    assert "cancelled 1 task(s) on ray://" in client.training.logs(job.id).text


def test_a_tuning_job_runs_its_trials_on_either_executor(homes: dict[str, Client]) -> None:
    spec = {
        "training": {
            "dataset": "bc@1",
            "target": "target",
            "task": "classification",
            "estimator": "lightgbm.LGBMClassifier",
            "params": {"n_jobs": 1, "min_child_samples": 5},
        },
        "objective": {"metric": "roc_auc", "direction": "maximize"},
        "strategy": "random",
        "max_trials": 4,
        "max_parallel": 2,
        "seed": 3,
        "search_space": {
            "n_estimators": {"type": "int", "low": 5, "high": 30},
            "num_leaves": {"type": "int", "low": 3, "high": 15},
        },
    }
    jobs = {name: client.tuning.tune(spec, timeout=240) for name, client in homes.items()}
    assert {name: job.status for name, job in jobs.items()} == {
        "local": "succeeded",
        "ray": "succeeded",
    }
    trials = {
        name: sorted((t.number, t.state, t.params["n_estimators"], t.values) for t in found)
        for name, found in ((n, homes[n].tuning.trials(j.id)) for n, j in jobs.items())
    }
    assert trials["ray"] == trials["local"] and len(trials["local"]) == 4
    assert all(state == "complete" for _, state, _, _ in trials["local"])
    record = jobs["ray"].resources
    assert record is not None and record.executor.startswith("ray://") and record.tasks == 4
