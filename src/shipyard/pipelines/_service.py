"""Pipeline operations: define (create, describe, list, delete) and run (start, describe,
list, cancel, resume, log).

Creating, starting and resuming declare every access the steps need (``_declared``),
checked before anything is stored or runs. A run acts as the principal that started it;
scheduled, dataset-triggered and alarm-started runs as the principal that defined the
pipeline (or the alarm), checked again when they start.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.jobs import LogChunk
from shipyard.jobs import _control as control
from shipyard.names import NAME_PATTERN, resource
from shipyard.pipelines._declared import merged_parameters, pipeline_accesses
from shipyard.pipelines._files import check_files
from shipyard.pipelines._kind import PIPELINE_RUN, run_resource
from shipyard.pipelines._spec import PipelineSpec, dependencies, parse_pipeline_spec
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.schemas.pipelines import PipelineInfo, PipelineRunInfo, StepNode
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import pipeline_tables as pt


def _spec_name(spec: object) -> str:
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, str) and NAME_PATTERN.fullmatch(name) else "*"


def _pipeline_resource(name: str) -> str:
    return resource("pipeline", name)


def _create_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    parsed = parse_pipeline_spec(spec)
    return pipeline_accesses(session, parsed, parsed.parameters)


def info_of(row: pt.Pipeline) -> PipelineInfo:
    spec = PipelineSpec.model_validate(row.spec)
    waits = dependencies(spec)
    return PipelineInfo(
        name=row.name,
        version=row.version,
        description=spec.description,
        parameters=spec.parameters,
        schedule=spec.schedule,
        triggers=[t.model_dump() for t in spec.triggers],
        steps=[
            StepNode(name=s.name, kind=s.kind, depends_on=sorted(waits[s.name])) for s in spec.steps
        ],
        files=sorted(row.files),
        spec=dict(row.spec),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation(
    "pipelines:CreatePipeline",
    lambda spec: _pipeline_resource(_spec_name(spec)),
    uses=_create_uses,
    mutating=True,
)
def create_pipeline(
    ctx: RequestContext, spec: dict[str, Any], files: dict[str, str] | None = None
) -> PipelineInfo:
    """Define a pipeline (or its next version, same name): steps, parameters, schedule,
    dataset triggers, with the code and data files its steps use. Everything is checked
    (kinds, references, cycles, each step's accesses) before anything is stored."""
    parsed = parse_pipeline_spec(spec)
    if parsed.schedule is not None:
        from shipyard.schemas.durations import parse_duration

        parse_duration(parsed.schedule, field="schedule")
    sources = check_files(files)
    stored = parsed.model_dump(mode="json", by_alias=True)
    digests = {path: ctx.platform.blobs.put_bytes(data) for path, data in sources.items()}
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(pt.Pipeline).where(pt.Pipeline.name == parsed.name))
        now = utcnow()
        if row is None:
            row = pt.Pipeline(name=parsed.name, version=1, created_at=now, watched={})
            session.add(row)
        else:
            row.version += 1
        row.spec, row.files, row.created_by, row.updated_at = stored, digests, ctx.principal, now
        row.watched = _watched(session, parsed, dict(row.watched or {}))
        session.flush()
        return info_of(row)


def _watched(session: Session, spec: PipelineSpec, before: dict[str, Any]) -> dict[str, Any]:
    """Each watched dataset's version a run was last started for; a newly watched one
    starts at its current latest version, so only versions after the definition count."""
    from shipyard.store.metadata import tables as t

    found = {}
    for trigger in spec.triggers:
        if trigger.dataset in before:
            found[trigger.dataset] = before[trigger.dataset]
            continue
        latest = session.scalar(
            sa.select(sa.func.max(t.DatasetVersion.version))
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(t.Dataset.name == trigger.dataset)
        )
        found[trigger.dataset] = int(latest or 0)
    return found


def _pipeline_row(session: Session, name: str) -> pt.Pipeline:
    row = session.scalar(sa.select(pt.Pipeline).where(pt.Pipeline.name == name))
    if row is None:
        raise NotFound(f"pipeline {name!r} does not exist", field="name")
    return row


@operation("pipelines:DescribePipeline", _pipeline_resource, mutating=False)
def get_pipeline(ctx: RequestContext, name: str) -> PipelineInfo:
    with ctx.platform.db.session() as session:
        return info_of(_pipeline_row(session, name))


@operation("pipelines:ListPipelines", lambda: resource("pipeline"), mutating=False)
def list_pipelines(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[PipelineInfo]:
    """Pipelines by name, a page at a time."""
    keyset = Keyset("pipelines", pt.Pipeline.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(pt.Pipeline))).all()
        found, token = keyset.page(rows, lambda p: p.name)
        items = [info_of(r) for r in found]
    return Page[PipelineInfo](items=items, next_page_token=token)


@operation("pipelines:DeletePipeline", _pipeline_resource, mutating=True)
def delete_pipeline(ctx: RequestContext, name: str) -> PipelineInfo:
    """Remove the definition (its schedule and triggers with it); its runs stay."""
    with ctx.platform.db.session() as session:
        row = _pipeline_row(session, name)
        info = info_of(row)
        session.delete(row)
        return info


def run_accesses(session: Session, name: str, parameters: dict[str, Any] | None) -> list[Access]:
    """Every access a run of pipeline ``name`` with ``parameters`` needs for its steps
    (none for a pipeline that does not exist)."""
    row = session.scalar(sa.select(pt.Pipeline).where(pt.Pipeline.name == name))
    if row is None:
        return []  # the run's own check answers for a pipeline that does not exist
    spec = PipelineSpec.model_validate(row.spec)
    return pipeline_accesses(session, spec, merged_parameters(spec, parameters))


def _start(
    ctx: RequestContext, name: str, parameters: dict[str, Any] | None, trigger: str
) -> PipelineRunInfo:
    with ctx.platform.db.session() as session:
        row = _pipeline_row(session, name)
        spec = PipelineSpec.model_validate(row.spec)
        values = merged_parameters(spec, parameters)
        job = control.new_job(
            session,
            PIPELINE_RUN,
            name=name,
            scope=name,
            principal=ctx.principal,
            limits=control.parse_limits({}),
        )
        session.add(
            pt.PipelineRun(
                id=job.id,
                pipeline=name,
                pipeline_version=row.version,
                spec=dict(row.spec),
                files=dict(row.files),
                parameters=values,
                trigger=trigger,
            )
        )
        for step in spec.steps:
            session.add(pt.PipelineStep(run_id=job.id, name=step.name, kind=step.kind, outputs={}))
        session.flush()
        job_id = job.id
    control.launch(ctx.platform, PIPELINE_RUN, job_id)
    return _run_info(ctx, job_id)


@operation("pipelines:StartPipelineRun", _pipeline_resource, uses=run_accesses, mutating=True)
def start_pipeline_run(
    ctx: RequestContext, name: str, parameters: dict[str, Any] | None = None
) -> PipelineRunInfo:
    """Run the pipeline now with ``parameters`` over its defaults; follow it by its steps."""
    return _start(ctx, name, parameters, "manual")


@operation("pipelines:StartPipelineRun", _pipeline_resource, uses=run_accesses, mutating=True)
def start_triggered_run(
    ctx: RequestContext, name: str, parameters: dict[str, Any] | None, trigger: str
) -> PipelineRunInfo:
    """``start_pipeline_run`` for the platform's own triggers, which name themselves."""
    if not trigger or len(trigger) > 300:
        raise InvalidInput("must be 1 to 300 characters", field="trigger")
    return _start(ctx, name, parameters, trigger)


def _run_info(ctx: RequestContext, run_id: str) -> PipelineRunInfo:
    info = control.describe(ctx.platform, PIPELINE_RUN, run_id)
    assert isinstance(info, PipelineRunInfo)
    return info


@operation("pipelines:DescribePipelineRun", run_resource, mutating=False)
def get_pipeline_run(ctx: RequestContext, run_id: str) -> PipelineRunInfo:
    """The run and each step's status, attempts, times, outputs and what it reused."""
    return _run_info(ctx, run_id)


@operation("pipelines:ListPipelineRuns", _pipeline_resource, mutating=False)
def list_pipeline_runs(
    ctx: RequestContext, name: str, limit: int = 50, page_token: str | None = None
) -> Page[PipelineRunInfo]:
    """A pipeline's runs, newest first, a page at a time."""
    keyset = Keyset(
        "pipeline-runs",
        (j.Job.created_at, j.Job.id),
        limit,
        page_token,
        filters=(name,),
        descending=True,
    )
    with ctx.platform.db.session() as session:
        rows = session.execute(
            keyset.apply(
                sa.select(j.Job.created_at, j.Job.id)
                .join(pt.PipelineRun, j.Job.id == pt.PipelineRun.id)
                .where(pt.PipelineRun.pipeline == name)
            )
        ).all()
    found, token = keyset.page(rows, lambda r: (r[0], r[1]))
    return Page[PipelineRunInfo](items=[_run_info(ctx, r[1]) for r in found], next_page_token=token)


@operation("pipelines:DescribePipelineRun", run_resource, mutating=False)
def read_pipeline_run_log(ctx: RequestContext, run_id: str, offset: int = 0) -> LogChunk:
    return control.read_log(ctx.platform, PIPELINE_RUN, run_id, offset)


@operation("pipelines:CancelPipelineRun", run_resource, mutating=True)
def cancel_pipeline_run(ctx: RequestContext, run_id: str) -> PipelineRunInfo:
    """Stop the run and the job its running step started; that step ends cancelled."""
    control.refuse_if_ended(ctx.platform, PIPELINE_RUN, run_id)
    control.stop(ctx.platform, run_id, "cancelled", f"cancelled by {ctx.principal}")
    with ctx.platform.db.session() as session:
        steps = session.scalars(
            sa.select(pt.PipelineStep).where(
                pt.PipelineStep.run_id == run_id, pt.PipelineStep.status.in_(("running", "pending"))
            )
        ).all()
        children = [s.child_job for s in steps if s.status == "running" and s.child_job]
        for step in steps:
            if step.status == "running":
                step.status, step.ended_at, step.message = "cancelled", utcnow(), "run cancelled"
    for child in children:
        control.stop(ctx.platform, child, "cancelled", f"pipeline run {run_id} cancelled")
    return _run_info(ctx, run_id)


def _wait_released(platform: Any, run_id: str, seconds: float = 15.0) -> None:
    """Until the ended run's last worker has let go of its lock (it records the outcome a
    moment before its process is gone)."""
    import time

    from shipyard.jobs._liveness import lock_held, pid_alive

    with platform.db.session() as session:
        pid = session.scalar(sa.select(j.Job.pid).where(j.Job.id == run_id))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (
        lock_held(platform.settings.jobs_dir, run_id) or (pid is not None and pid_alive(pid))
    ):
        time.sleep(0.05)


def _resume_uses(session: Session, run_id: str) -> list[Access]:
    row = session.get(pt.PipelineRun, run_id)
    if row is None:
        return []
    spec = PipelineSpec.model_validate(row.spec)
    return pipeline_accesses(session, spec, dict(row.parameters))


@operation("pipelines:ResumePipelineRun", run_resource, uses=_resume_uses, mutating=True)
def resume_pipeline_run(ctx: RequestContext, run_id: str) -> PipelineRunInfo:
    """Start a failed or cancelled run again from the step that did not finish; steps that
    succeeded, were reused or skipped keep their outputs. It runs as its principal."""
    with ctx.platform.db.session() as session:
        job = control.job_row(session, PIPELINE_RUN, run_id)
        if job.created_by != ctx.principal:
            job.created_by = ctx.principal  # it runs on as whoever resumed it (and was checked)
    _wait_released(ctx.platform, run_id)
    try:
        control.resume(ctx.platform, PIPELINE_RUN, run_id)
    except Conflict as error:
        raise Conflict(error.message, field="run_id") from None
    return _run_info(ctx, run_id)


def _run_pipeline(session: Session, run_id: str) -> str:
    row = session.get(pt.PipelineRun, run_id)
    return _pipeline_resource(row.pipeline if row is not None else "*")


@operation("pipelines:StartPipelineRun", _run_pipeline, uses=_resume_uses, mutating=False)
def authorize_run(ctx: RequestContext, run_id: str) -> None:
    """What a run's worker checks first, as the run's principal with its current policies:
    starting the pipeline and every access of its steps."""
