"""The one job system: cancel, max_runtime, memory limit, retries and the resource record."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa
from tests.cli.conftest import environment
from tests.conftest import LiveServer
from tests.jobs.conftest import SLEEPER, write_code

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.errors import Conflict, JobFailed
from shipyard.platform import Platform
from shipyard.security import issue_admin_key_if_none
from shipyard.store.metadata import tables as t


def _gone(pid: int) -> bool:
    """No such process, or only its zombie left to reap."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _code(platform: Platform, source: str, **spec: object) -> str:
    client = Client(settings=platform.settings)
    body = {"entrypoint": "train.py:main", "dataset": "bc@1", **spec}
    return client.training.submit_code(body, {"train.py": source}).id


def _wait_for(predicate: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_cancel_ends_the_whole_process_tree(data_platform: Platform, tmp_path: Path) -> None:
    out = tmp_path / "pids.txt"
    client = Client(settings=data_platform.settings)
    job_id = _code(data_platform, SLEEPER, params={"out": str(out)})
    _wait_for(lambda: out.exists() and out.read_text())
    worker, grandchild = (int(p) for p in out.read_text().split())

    started = time.monotonic()
    cancelled = client.training.cancel(job_id)
    took = time.monotonic() - started

    assert cancelled.status == "cancelled" and cancelled.message == "cancelled by admin"
    assert _gone(worker) and _gone(grandchild), took
    with data_platform.db.session() as session:
        run = session.get(t.Run, cancelled.run_id)
        assert run is not None and run.status == "killed"
        paths = set(
            session.scalars(sa.select(t.RunArtifact.path).where(t.RunArtifact.run_id == run.id))
        )
    assert not any(p.startswith("model/") for p in paths) and "code/train.py" in paths
    with pytest.raises(JobFailed, match="cancelled"):
        client.training.wait(job_id, timeout=30)
    with pytest.raises(Conflict, match="already cancelled"):
        client.training.cancel(job_id)


def test_max_runtime_times_a_job_out(data_platform: Platform, tmp_path: Path) -> None:
    out = tmp_path / "pids.txt"
    job_id = _code(data_platform, SLEEPER, params={"out": str(out)}, max_runtime=1.5)
    client = Client(settings=data_platform.settings)
    with pytest.raises(JobFailed, match="timed out"):
        client.training.wait(job_id, timeout=60)
    job = client.training.get(job_id)
    assert job.status == "timed_out" and "max_runtime" in job.message
    worker, grandchild = (int(p) for p in out.read_text().split())
    _wait_for(lambda: _gone(worker) and _gone(grandchild), timeout=10)


_ALLOCATE = """
def main(context):
    hog = bytearray(3 * 1024**3)
    hog[::4096] = b"x" * len(hog[::4096])
"""


def test_memory_limit_fails_the_job_and_the_server_answers(data_platform: Platform) -> None:
    live = LiveServer(create_app(data_platform))
    key = issue_admin_key_if_none(data_platform)
    assert key is not None
    try:
        client = Client(transport=HttpTransport(live.url, key.token))
        job = client.training.submit_code(
            {"entrypoint": "train.py:main", "dataset": "bc@1", "limits": {"memory_mb": 256}},
            {"train.py": _ALLOCATE},
        )
        with pytest.raises(JobFailed, match="job exceeded its memory limit of 256 MiB"):
            client.training.wait(job.id, timeout=120)
        assert httpx.get(f"{live.url}/healthz").status_code == 200
        assert client.training.get(job.id).status == "failed"
    finally:
        live.close()


_FLAKY = """
from pathlib import Path
from shipyard.jobs import RetryableError


def main(context):
    marker = Path(context.params["marker"])
    if not marker.exists():
        marker.write_text("tried")
        raise RetryableError("the store blinked")
    context.run.log_metric("ok", 1.0)
"""


def test_a_retryable_failure_is_retried_and_counted(
    data_platform: Platform, tmp_path: Path
) -> None:
    client = Client(settings=data_platform.settings)
    job_id = _code(data_platform, _FLAKY, params={"marker": str(tmp_path / "m")}, max_retries=2)
    job = client.training.wait(job_id, timeout=120)
    assert job.status == "succeeded" and job.attempts == 2
    assert "attempt 1 failed, retrying: the store blinked" in client.training.logs(job_id).text

    again = _code(data_platform, _FLAKY, params={"marker": str(tmp_path / "n")})
    with pytest.raises(JobFailed, match="the store blinked"):
        client.training.wait(again, timeout=120)
    assert client.training.get(again).attempts == 1


_BUSY = """
import os, time


def main(context):
    context.run.log_metric("cores", len(os.sched_getaffinity(0)))
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        sum(range(10000))
"""


def test_resource_record_and_system_metrics(data_platform: Platform) -> None:
    client = Client(settings=data_platform.settings)
    job = client.training.wait(_code(data_platform, _BUSY, cpus=1), timeout=120)
    assert (
        job.limits.cpus == 1 and client.tracking.metric_history(job.run_id, "cores")[0].value == 1
    )
    assert job.resources is not None
    assert job.resources.wall_seconds >= 1.5 and job.resources.cpu_seconds > 0
    assert job.resources.peak_memory_mb > 10
    history = client.tracking.metric_history(job.run_id, "system/cpu_percent")
    memory = client.tracking.metric_history(job.run_id, "system/memory_mb")
    assert history and memory and memory[0].value > 10
    assert [p.step for p in history] == sorted({p.step for p in history})


def test_cancel_a_job_another_process_started(data_platform: Platform, tmp_path: Path) -> None:
    """The CLI submits the job from its own process; this process ends it."""
    if not data_platform.db.is_sqlite:
        return  # the CLI below opens the home's SQLite database
    out = tmp_path / "pids.txt"
    write_code(tmp_path / "code", {"train.py": SLEEPER})
    spec = tmp_path / "code" / "spec.yaml"
    spec.write_text(f"dataset: bc@1\nentrypoint: train.py:main\nparams:\n  out: {out}\n")
    printed = tmp_path / "cli.json"
    with printed.open("wb") as sink:
        cli = subprocess.Popen(
            [sys.executable, "-m", "shipyard", "train", str(spec), "--no-wait", "--json"],
            stdout=sink,
            stderr=subprocess.DEVNULL,
            env=environment(data_platform.settings.home),
        )
    try:
        _wait_for(lambda: out.exists() and out.read_text())
        worker, grandchild = (int(p) for p in out.read_text().split())
        _wait_for(lambda: printed.read_text().strip().endswith("}"))
        job_id = orjson.loads(printed.read_bytes())["id"]

        job = Client(settings=data_platform.settings).training.cancel(job_id)

        assert job.status == "cancelled" and _gone(worker) and _gone(grandchild)
    finally:
        cli.kill()
        cli.wait(timeout=30)
