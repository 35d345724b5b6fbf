"""What pipelines cost: each run's own job and every job its steps started.

A pipeline run is a job of kind ``pipeline`` (``pipeline_runs`` names its pipeline). A
train, tune, AutoML or batch step records the job it started in ``pipeline_steps.child_job``
(the latest attempt's) and in ``pipeline_outputs`` as kind ``job`` (every attempt's, so a
retried or resumed step's failed jobs count too). A cached step started nothing, so its
cost stays with the run that computed it. Each job counts in the period it ended in, as
everywhere in a cost report. A pipeline's jobs are seen by whoever may describe the
pipeline (``pipelines:DescribePipeline`` on ``sy:pipeline/<name>``): its cost is the
pipeline's, whoever started the runs.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.cost._collect import Item, Visible, job_resource, record_usage
from shipyard.names import resource
from shipyard.security import ResourceName
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import pipeline_tables as pt

DESCRIBE_PIPELINE = "pipelines:DescribePipeline"


def pipeline_items(
    session: Session, since: datetime, until: datetime, visible: Visible
) -> list[Item]:
    """The pipeline runs' jobs and their steps' child jobs that ended in the period, each
    with the pipeline it belongs to, for the pipelines the principal may describe."""
    job = j.Job
    when = sa.func.coalesce(job.ended_at, job.started_at)
    columns = (job.id, job.kind, job.scope, job.created_by, job.resources, pt.PipelineRun.pipeline)
    runs = sa.select(*columns).join(pt.PipelineRun, pt.PipelineRun.id == job.id)
    started = sa.union(
        sa.select(pt.PipelineStep.run_id, pt.PipelineStep.child_job.label("job_id")),
        sa.select(pt.PipelineOutput.run_id, pt.PipelineOutput.ref).where(
            pt.PipelineOutput.kind == "job"
        ),
    ).subquery()
    children = (
        sa.select(*columns)
        .select_from(started)
        .join(pt.PipelineRun, pt.PipelineRun.id == started.c.run_id)
        .join(job, job.id == started.c.job_id)
    )
    period = (when >= since, when <= until)
    rows = [*session.execute(runs.where(*period)), *session.execute(children.where(*period))]
    allowed: dict[str, bool] = {}
    found: dict[str, Item] = {}
    for job_id, kind, scope, principal, record, pipeline in rows:
        if pipeline not in allowed:
            allowed[pipeline] = visible(
                DESCRIBE_PIPELINE, ResourceName.of(resource("pipeline", pipeline))
            )
        if not allowed[pipeline] or job_id in found:
            continue
        name = job_resource(kind, scope, job_id).name
        found[job_id] = Item(name, principal, job_id, record_usage(record, name), pipeline)
    return list(found.values())
