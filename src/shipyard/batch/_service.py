"""Batch transform jobs: check the input against the model, then score in a worker process."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.batch._plan import check_input_schema, plan_output
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import Conflict, InvalidInput
from shipyard.flavors import ModelSignature
from shipyard.jobs import _control as control
from shipyard.jobs._kinds import JobKind, register_kind
from shipyard.jobs._liveness import lock_held, pid_alive
from shipyard.names import check_name, parse_reference, resource
from shipyard.platform import Platform
from shipyard.registry import model_version_access, resolve
from shipyard.schemas.batch import BatchJobInfo
from shipyard.schemas.jobs import FINAL_STATUSES, JobLimits, LogChunk
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

MAX_CHUNK_ROWS = 5_000_000
MAX_WORKERS = 64


def log_path(platform: Platform, job_id: str) -> Path:
    return control.log_path(platform, job_id)


def _dataset_ref(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    name, version = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.id == version_id)
    ).one()
    return f"{name}@{version}"


def _describe(session: Session, row: j.Job) -> BatchJobInfo:
    batch = session.get(x.BatchJob, row.id)
    assert batch is not None
    return BatchJobInfo(
        **control.common_fields(row),
        model=batch.spec["model"],
        input=_dataset_ref(session, batch.input_version_id) or "",
        output=batch.output_name,
        output_version=_dataset_ref(session, batch.output_version_id),
        chunks_total=batch.chunks_total,
        chunks_done=batch.chunks_done,
        spec=batch.spec,
    )


BATCH = register_kind(
    JobKind(
        name="batch",
        resource_kind="batch-job",
        noun="batch job",
        worker="shipyard.batch._runner:run",
        describe=_describe,
    )
)


def _batch_uses(session: Session, model: str, input: str, output: str) -> list[Access]:
    """Reading the model version and the input dataset version, writing the output dataset."""
    return [
        model_version_access(session, model, field="model"),
        Access("datasets:ReadData", dataset_ref_resource(session, input, field="input")),
        Access("datasets:Ingest", resource("dataset", output)),
    ]


def _resume_uses(session: Session, job_id: str) -> list[Access]:
    """A resumed job scores again: the same reads and write as when it was created."""
    row = session.get(x.BatchJob, job_id)
    if row is None:
        return []
    model, input_ref = row.spec.get("model", ""), _dataset_ref(session, row.input_version_id)
    return _batch_uses(session, model, input_ref or "", row.output_name)


@operation(
    "batch:CreateBatchTransformJob",
    lambda output: resource("batch-job", output),
    uses=_batch_uses,
    mutating=True,
)
def create_batch_job(
    ctx: RequestContext,
    model: str,
    input: str,
    output: str,
    keep_columns: list[str] | None = None,
    output_columns: list[str] | None = None,
    chunk_rows: int = 100_000,
    workers: int | None = None,
    limits: JobLimits | None = None,
) -> BatchJobInfo:
    """Score dataset version ``input`` with ``model`` into a new version of dataset ``output``.

    Refuses before any work starts when the input's columns do not fit the model's
    signature (listing every differing column) or the column choices are invalid.
    ``limits``: max_runtime (seconds), cpus, memory_mb, max_retries.
    """
    check_name(output, field="output")
    if not 1 <= chunk_rows <= MAX_CHUNK_ROWS:
        raise InvalidInput(f"must be between 1 and {MAX_CHUNK_ROWS}", field="chunk_rows")
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InvalidInput(f"must be between 1 and {MAX_WORKERS}", field="workers")
    model_ref = parse_reference(model, field="model")
    input_ref = parse_reference(input, field="input")
    if input_ref.alias is not None:
        raise InvalidInput("datasets are named by version (name@3), not alias", field="input")
    with ctx.platform.db.session() as session:
        registered, version = resolve(session, model_ref)
        source = find_version(session, input_ref.name, input_ref.version)
        if source.rows == 0:
            raise InvalidInput(f"dataset version {input} has no rows to score", field="input")
        signature = ModelSignature.model_validate(version.signature)
        check_input_schema(source.schema, signature)
        plan = plan_output(
            signature, [c["name"] for c in source.schema], keep_columns, output_columns
        )
        job = control.new_job(
            session,
            BATCH,
            name=f"{registered.name}-{output}"[:200],
            scope=output,
            principal=ctx.principal,
            limits=control.parse_limits(limits),
        )
        session.add(
            x.BatchJob(
                id=job.id,
                model_version_id=version.id,
                input_version_id=source.id,
                output_name=output,
                spec={
                    "model": f"{registered.name}@{version.version}",
                    "requested_model": model,
                    "chunk_rows": chunk_rows,
                    "workers": workers or os.cpu_count() or 1,
                    "plan": plan.model_dump(mode="json"),
                },
            )
        )
        session.flush()
        info = _describe(session, job)
    control.launch(ctx.platform, BATCH, info.id)
    return info


_job_resource = control.job_resource(BATCH)


def _running(jobs_dir: Path, row: j.Job) -> bool:
    """Whether the job's process is alive on this machine: it holds its lock, or it was just
    launched (pending, its pid set) and has not taken the lock yet."""
    if row.status in FINAL_STATUSES or row.pid is None:
        return False
    if lock_held(jobs_dir, row.id):
        return True
    return row.status == "pending" and pid_alive(row.pid)


@operation("batch:ResumeBatchTransformJob", _job_resource, uses=_resume_uses, mutating=True)
def resume_batch_job(ctx: RequestContext, job_id: str) -> BatchJobInfo:
    """Start a stopped or crashed job again; chunks it finished before are not scored again."""
    with ctx.platform.db.session() as session:
        row = control.job_row(session, BATCH, job_id)
        if row.status == "succeeded":
            raise Conflict(f"batch job {job_id} already succeeded", field="job_id")
        live = _running(ctx.platform.settings.jobs_dir, row)
        if live or (row.status == "pending" and row.pid is None):
            raise Conflict(f"batch job {job_id} is still running", field="job_id")
        claimed = session.execute(
            sa.update(j.Job)
            .where(
                j.Job.id == job_id,
                j.Job.status == row.status,
                j.Job.attempts == row.attempts,
                j.Job.pid.is_(None) if row.pid is None else j.Job.pid == row.pid,
            )
            .values(status="pending", pid=None, message="resuming", ended_at=None, started_at=None)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"batch job {job_id} is being resumed already", field="job_id")
        session.refresh(row)
        info = _describe(session, row)
    control.launch(ctx.platform, BATCH, job_id)
    return info


@operation("batch:DescribeBatchTransformJob", _job_resource, mutating=False)
def get_batch_job(ctx: RequestContext, job_id: str) -> BatchJobInfo:
    info = control.describe(ctx.platform, BATCH, job_id)
    assert isinstance(info, BatchJobInfo)
    return info


@operation("batch:ListBatchTransformJobs", lambda: resource("batch-job"), mutating=False)
def list_batch_jobs(ctx: RequestContext, limit: int = 50) -> list[BatchJobInfo]:
    return [i for i in control.list_jobs(ctx.platform, BATCH, limit) if isinstance(i, BatchJobInfo)]


@operation("batch:DescribeBatchTransformJob", _job_resource, mutating=False)
def read_batch_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log from byte ``offset``, with its status, for following by polling."""
    return control.read_log(ctx.platform, BATCH, job_id, offset)


@operation("batch:CancelBatchTransformJob", _job_resource, mutating=True)
def cancel_batch_job(ctx: RequestContext, job_id: str) -> BatchJobInfo:
    """End the job's whole process tree and mark it cancelled; its finished chunks stay, so
    it can be resumed."""
    control.refuse_if_ended(ctx.platform, BATCH, job_id)
    control.stop(ctx.platform, job_id, "cancelled", f"cancelled by {ctx.principal}")
    info = control.describe(ctx.platform, BATCH, job_id)
    assert isinstance(info, BatchJobInfo)
    return info
