"""The pipeline-run kind of the one job system, and how its rows read back."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.jobs import _control as control
from shipyard.jobs._kinds import JobKind, register_kind
from shipyard.pipelines._spec import PipelineSpec, dependencies
from shipyard.schemas.pipelines import PipelineRunInfo, StepInfo
from shipyard.security import ResourceName
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import pipeline_tables as pt


def describe_run(session: Session, row: j.Job) -> PipelineRunInfo:
    run = session.get(pt.PipelineRun, row.id)
    assert run is not None
    spec = PipelineSpec.model_validate(run.spec)
    waits = dependencies(spec)
    stored = {
        s.name: s
        for s in session.scalars(sa.select(pt.PipelineStep).where(pt.PipelineStep.run_id == row.id))
    }
    steps = []
    for step in spec.steps:
        found = stored.get(step.name)
        steps.append(
            StepInfo(
                name=step.name,
                kind=step.kind,
                depends_on=sorted(waits[step.name]),
                status=found.status if found else "pending",
                attempts=found.attempts if found else 0,
                message=found.message if found else "",
                outputs=dict(found.outputs) if found else {},
                cache_key=found.cache_key if found else None,
                reused_from=found.reused_from if found else None,
                child_job=found.child_job if found else None,
                started_at=found.started_at if found else None,
                ended_at=found.ended_at if found else None,
            )
        )
    return PipelineRunInfo(
        **control.common_fields(row),
        pipeline=run.pipeline,
        pipeline_version=run.pipeline_version,
        parameters=dict(run.parameters),
        trigger=run.trigger,
        steps=steps,
    )


PIPELINE_RUN = register_kind(
    JobKind(
        name="pipeline",
        resource_kind="pipeline-run",
        noun="pipeline run",
        worker="shipyard.pipelines._runner:run",
        describe=describe_run,
    )
)
_job_resource = control.job_resource(PIPELINE_RUN)


def run_resource(session: Session, run_id: str) -> ResourceName:
    """``sy:pipeline-run/<pipeline>/<run id>`` (also ``sy:pipeline-run/<run id>``)."""
    return _job_resource(session, run_id)
