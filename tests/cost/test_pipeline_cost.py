"""Cost by pipeline: a real run of an ingest and a train step, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.cost.test_cost import CPU_HOUR, GB_HOUR, _add_job, _expected
from tests.endpoints.dataplanekit import wait_for
from tests.pipelines.conftest import bc_csv, spec, wait_run

from shipyard import pipelines
from shipyard.config import Settings
from shipyard.cost import cost_report
from shipyard.jobs import read_training_log
from shipyard.platform import Platform
from shipyard.security import (
    ADMIN,
    RequestContext,
    attach_policy,
    context_for,
    create_principal,
    put_policy,
)
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import pipeline_tables as pt

PIPELINE = """
name: costed
steps:
  - name: ingest
    kind: ingest
    with: {dataset: bc, file: bc.csv}
  - name: train
    kind: train
    with:
      dataset: "${steps.ingest.dataset}"
      target: diagnosis
      task: classification
      estimator: sklearn.linear_model.LogisticRegression
      params: {max_iter: 500}
      experiment: costed
"""


@pytest.fixture
def settings(tmp_path: Path, metadata_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=metadata_url,
        price_cpu_hour=CPU_HOUR,
        price_gb_hour=GB_HOUR,
        currency="EUR",
    )


def _records(platform: Platform, *job_ids: str) -> list[dict[str, Any]]:
    with platform.db.session() as session:
        rows = session.execute(sa.select(j.Job.id, j.Job.resources).where(j.Job.id.in_(job_ids)))
        found = {job_id: dict(record or {}) for job_id, record in rows}
    return [found.get(job_id, {}) for job_id in job_ids]


def _wait_final_records(ctx: RequestContext, run_id: str, child: str) -> None:
    """Each worker stores its final record, then logs it, after marking its job done."""
    wait_for(lambda: "resources:" in pipelines.read_pipeline_run_log(ctx, run_id).text)
    wait_for(lambda: "resources:" in read_training_log(ctx, child).text)


def _cost(record: dict[str, Any]) -> float:
    return _expected(record["cpu_seconds"], record["peak_memory_mb"], record["wall_seconds"])


def _principal(platform: Platform, action: str, resource: str) -> str:
    admin = context_for(platform, ADMIN)
    name = f"p-{uuid.uuid4().hex[:8]}"
    create_principal(admin, name)
    statements = [
        {"Effect": "Allow", "Action": "cost:GetCostReport", "Resource": "*"},
        {"Effect": "Allow", "Action": "training:DescribeTrainingJob", "Resource": "*"},
        {"Effect": "Allow", "Action": action, "Resource": resource},
    ]
    put_policy(admin, f"{name}-policy", {"Statement": statements})
    attach_policy(admin, name, f"{name}-policy")
    return name


def test_a_pipeline_costs_its_run_job_and_the_jobs_its_steps_started(
    platform: Platform, tmp_path: Path
) -> None:
    admin = context_for(platform, ADMIN)
    pipelines.create_pipeline(admin, spec(PIPELINE), {"bc.csv": bc_csv(tmp_path, rows=200)})
    run = wait_run(admin, pipelines.start_pipeline_run(admin, "costed").id)
    assert run.status == "succeeded", run.message
    child = run.step("train").child_job
    assert child is not None and run.step("ingest").child_job is None
    _add_job(platform, "costed", ADMIN, cpu=999, memory=1, wall=1)  # not a pipeline's
    _wait_final_records(admin, run.id, child)
    run_record, child_record = _records(platform, run.id, child)

    report = cost_report(admin, by="pipeline", since="1h")

    (line,) = report.lines
    assert (line.key, line.resources) == ("costed", 2)
    assert line.cpu_seconds == pytest.approx(
        run_record["cpu_seconds"] + child_record["cpu_seconds"], abs=1e-3
    )
    assert line.cost == pytest.approx(_cost(run_record) + _cost(child_record), rel=1e-6)
    assert report.total == pytest.approx(line.cost)

    blind = _principal(platform, "pipelines:DescribePipeline", "sy:pipeline/other")
    assert cost_report(context_for(platform, blind), by="pipeline", since="1h").lines == []
    sighted = _principal(platform, "pipelines:DescribePipeline", "sy:pipeline/costed")
    seen = cost_report(context_for(platform, sighted), by="pipeline", since="1h")
    assert [(x.key, x.resources) for x in seen.lines] == [("costed", 2)]
    assert seen.lines[0].cost == pytest.approx(line.cost)


def _earlier_attempt(platform: Platform, run_id: str) -> str:
    """A job an earlier attempt of the train step started (``child_job`` names the last)."""
    earlier = _add_job(platform, "costed", ADMIN, cpu=3600, memory=1024, wall=3600)
    with platform.db.session() as session:
        session.add(pt.PipelineOutput(run_id=run_id, step="train", kind="job", ref=earlier))
    return earlier


def test_every_attempt_of_a_step_counts(platform: Platform, tmp_path: Path) -> None:
    admin = context_for(platform, ADMIN)
    pipelines.create_pipeline(admin, spec(PIPELINE), {"bc.csv": bc_csv(tmp_path, rows=200)})
    run = wait_run(admin, pipelines.start_pipeline_run(admin, "costed").id)
    assert run.status == "succeeded", run.message
    child = run.step("train").child_job
    assert child is not None
    _wait_final_records(admin, run.id, child)
    with platform.db.session() as session:
        linked = session.scalars(
            sa.select(pt.PipelineOutput.ref).where(
                pt.PipelineOutput.run_id == run.id, pt.PipelineOutput.kind == "job"
            )
        ).all()
    assert list(linked) == [child]
    before = cost_report(admin, by="pipeline", since="1h").lines[0]

    _earlier_attempt(platform, run.id)

    (after,) = cost_report(admin, by="pipeline", since="1h").lines
    assert after.resources == before.resources + 1 == 3
    assert after.cost == pytest.approx(before.cost + _expected(3600, 1024, 3600), rel=1e-6)
