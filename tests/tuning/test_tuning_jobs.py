"""Tuning jobs end to end: both SDK transports on SQLite and PostgreSQL (the study in its
own storage beside the metadata database), the best trial registered and served, the
report; a job killed mid-trial resumed with its finished trials; cancel ending trials."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import sqlalchemy as sa
from tests.tuning.conftest import lgbm_spec

from shipyard.client import Client
from shipyard.errors import InvalidInput
from shipyard.names import parse_reference
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor, resolve
from shipyard.store.metadata import job_tables as j
from shipyard.tuning import storage_target


def _wait_for(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _job_pid(platform: Platform, job_id: str) -> int:
    with platform.db.session() as session:
        row = session.get(j.Job, job_id)
        assert row is not None and row.pid is not None
        return row.pid


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_tune_register_serve_and_report(
    client: Client, platform: Platform, cancer_csv: Path
) -> None:
    client.datasets.ingest(cancer_csv, "cancer")
    job = client.tuning.tune(lgbm_spec(max_trials=3))
    assert job.status == "succeeded" and job.message.startswith("best roc_auc=")
    trials = client.tuning.trials(job.id)
    assert [t.state for t in trials] == ["complete"] * 3
    for trial in trials:  # what each trial used, measured in the process that ran it
        used = trial.usage
        assert used["wall_seconds"] > 0 and used["cpu_seconds"] > 0, used
        assert 50 < used["peak_mib"] < 24 * 1024, used  # a Python process with LightGBM
    best = client.tuning.best(job.id).trials[0]
    assert best.usage == next(t.usage for t in trials if t.number == best.number)
    assert best.values == [max((t.values or [0.0])[0] for t in trials)] and best.has_model

    version = client.tuning.register_best(job.id, "cancer-tuned")
    assert version.run_id == best.run_id and version.metrics["roc_auc"] == best.values[0]
    with platform.db.session() as session:
        _, row = resolve(session, parse_reference("cancer-tuned@1"))
        session.expunge(row)
    frame = __import__("pandas").read_csv(cancer_csv).drop(columns=["target"]).head(5)
    assert load_version_predictor(platform, row).predict(frame).probabilities.shape == (5, 2)

    html = client.tuning.report(job.id)
    assert "Optimization history" in html and "Parallel coordinates" in html
    assert "plotly" in html and 'src="http' not in html  # plotly.js embedded, no network

    url, _ = storage_target(platform.settings)
    if url.startswith("sqlite"):
        assert url.endswith("shipyard.optuna.db") and Path(url.removeprefix("sqlite:///")).exists()
    else:
        schema = url and platform.db.url.split("search_path%3D")[-1] + "_optuna"
        with platform.db.session() as session:
            names = session.scalars(sa.text("select schema_name from information_schema.schemata"))
            assert schema in set(names)

    with __import__("pytest").raises(InvalidInput) as caught:
        client.tuning.start(lgbm_spec(max_trials=0))
    assert caught.value.field == "max_trials"


SLOW_TRIAL = """
import time

def main(context):
    time.sleep(2.0)  # long enough to be seen running between two polls, even on a busy machine
    context.run.log_metric("score", -((float(context.params["x"]) - 2.0) ** 2))
"""


def test_resume_after_kill_keeps_finished_trials(tuner: Client, tmp_path: Path) -> None:
    platform: Platform = tuner.transport.platform  # type: ignore[attr-defined]
    (tmp_path / "train.py").write_text(SLOW_TRIAL)
    spec = {
        "training": {"entrypoint": "train.py:main", "dataset": "cancer@1"},
        "objective": {"metric": "score", "direction": "maximize"},
        "strategy": "random",
        "seed": 0,
        "max_trials": 4,
        "search_space": {"x": {"type": "float", "low": -10, "high": 10}},
    }
    (tmp_path / "tune.yaml").write_text(__import__("yaml").safe_dump(spec))
    job = tuner.tuning.start(tmp_path / "tune.yaml")

    def one_done_one_running() -> bool:
        trials = _trials(tuner, job.id)  # one read, so both states are seen at one moment
        return sum(t.state == "complete" for t in trials) >= 1 and any(
            t.state == "running" and t.params for t in trials
        )

    _wait_for(one_done_one_running)
    os.kill(_job_pid(platform, job.id), signal.SIGKILL)
    _wait_for(lambda: tuner.tuning.get(job.id).status == "failed")
    before = {t.number: t for t in tuner.tuning.trials(job.id)}
    kept = {n: t.run_id for n, t in before.items() if t.state == "complete"}
    lost = [t for t in before.values() if t.state == "running"]
    assert len(kept) >= 1 and len(lost) == 1

    tuner.tuning.resume(job.id)
    done = tuner.tuning.wait(job.id)
    assert done.status == "succeeded" and done.attempts == 2
    after = {t.number: t for t in tuner.tuning.trials(job.id)}
    for number, run_id in kept.items():
        assert after[number].state == "complete" and after[number].run_id == run_id
    again = after[lost[0].number]
    assert again.state == "failed" and "ended while this trial ran" in (again.reason or "")
    retried = [
        t for t in after.values() if t.number > lost[0].number and t.params == lost[0].params
    ]
    assert retried and retried[0].state == "complete"
    counted = [t for t in after.values() if t.state in ("complete", "pruned", "failed")]
    assert len(counted) == 4 + 1  # the budget, and the trial the kill lost


def _trials(client: Client, job_id: str) -> list:  # type: ignore[type-arg]
    try:
        return client.tuning.trials(job_id)
    except Exception:  # the study is created when the job starts
        return []


def test_cancel_ends_every_trial_process(tuner: Client) -> None:
    platform: Platform = tuner.transport.platform  # type: ignore[attr-defined]
    slow = lgbm_spec(max_trials=4, max_parallel=2)
    slow["training"] = {**slow["training"], "params": {"boosting_type": "dart"}}
    slow["search_space"] = {"n_estimators": {"type": "int", "low": 400, "high": 500}}
    job = tuner.tuning.start(slow)
    _wait_for(lambda: sum(t.state == "running" for t in _trials(tuner, job.id)) == 2)
    pid = _job_pid(platform, job.id)
    assert len(_group(pid)) >= 3  # the job process and its two trial workers
    cancelled = tuner.tuning.cancel(job.id)
    assert cancelled.status == "cancelled"
    assert _group(pid) == []


def test_timeout_ends_the_study_with_what_finished(tuner: Client) -> None:
    spec = lgbm_spec(max_trials=50, timeout="3s")
    spec["training"] = {**spec["training"], "params": {"boosting_type": "dart"}}  # slow rounds
    spec["search_space"] = {"n_estimators": {"type": "int", "low": 150, "high": 160}}
    job = tuner.tuning.tune(spec)
    assert job.status == "succeeded" and "(timeout)" in job.message
    finished = [t for t in tuner.tuning.trials(job.id) if t.state == "complete"]
    assert 1 <= len(finished) < 50
