"""Batch transform jobs: check the input against the model, then score in a worker process."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.batch._liveness import lock_held, pid_alive
from shipyard.batch._models import FINAL_STATUSES, BatchJobInfo
from shipyard.batch._plan import check_input_schema, plan_output
from shipyard.clock import utcnow
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import Conflict, InvalidInput, NotFound, StorageError
from shipyard.flavors import ModelSignature
from shipyard.jobs import LogChunk
from shipyard.jobs._launcher import launch_worker, read_log_chunk
from shipyard.names import check_name, parse_reference, resource
from shipyard.platform import Platform
from shipyard.registry import model_version_access, resolve
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import export_tables as x
from shipyard.store.metadata import tables as t

WORKER_MODULE = "shipyard.batch._main"
MAX_CHUNK_ROWS = 5_000_000
MAX_WORKERS = 64


def log_path(platform: Platform, job_id: str) -> Path:
    return platform.settings.jobs_dir / f"batch-{job_id}.log"


def _job(session: Session, job_id: str) -> x.BatchJob:
    row = session.get(x.BatchJob, job_id)
    if row is None:
        raise NotFound(f"batch job {job_id!r} does not exist", field="job_id")
    return row


def _dataset_ref(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    name, version = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.id == version_id)
    ).one()
    return f"{name}@{version}"


def _info(session: Session, row: x.BatchJob) -> BatchJobInfo:
    return BatchJobInfo(
        id=row.id,
        model=row.spec["model"],
        input=_dataset_ref(session, row.input_version_id) or "",
        output=row.output_name,
        output_version=_dataset_ref(session, row.output_version_id),
        status=row.status,
        progress=row.progress,
        message=row.message,
        chunks_total=row.chunks_total,
        chunks_done=row.chunks_done,
        attempts=row.attempts,
        spec=row.spec,
        created_by=row.created_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
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
) -> BatchJobInfo:
    """Score dataset version ``input`` with ``model`` into a new version of dataset ``output``.

    Refuses before any work starts when the input's columns do not fit the model's
    signature (listing every differing column) or the column choices are invalid.
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
        row = x.BatchJob(
            id=uuid.uuid4().hex,
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
            created_by=ctx.principal,
        )
        session.add(row)
        session.flush()
        info = _info(session, row)
    _launch(ctx.platform, info.id)
    return info


def _launch(platform: Platform, job_id: str) -> None:
    try:
        process = launch_worker(
            WORKER_MODULE,
            job_id,
            platform.settings,
            log_path(platform, job_id),
            lambda code: _mark_if_died(platform, job_id, code),
        )
    except OSError as error:
        _mark_if_died(platform, job_id, -1)
        raise StorageError(f"could not start the batch worker: {error}") from None
    with platform.db.session() as session:
        row = session.get(x.BatchJob, job_id)
        if row is not None and row.status == "pending":
            row.pid = process.pid


def _mark_if_died(platform: Platform, job_id: str, exit_code: int) -> None:
    """A worker that exits without recording an outcome has failed; its chunks stay."""
    with platform.db.session() as session:
        row = session.get(x.BatchJob, job_id)
        if row is not None and row.status not in FINAL_STATUSES:
            row.status = "failed"
            row.message = f"worker process exited with code {exit_code}; resume to continue"
            row.ended_at = utcnow()


def _job_resource(session: Session, job_id: str) -> ResourceName:
    """``sy:batch-job/<output dataset>/<id>`` (also ``sy:batch-job/<id>``)."""
    output = session.scalar(sa.select(x.BatchJob.output_name).where(x.BatchJob.id == job_id))
    return ResourceName.scoped("batch-job", output, job_id)


def _running(jobs_dir: Path, row: x.BatchJob) -> bool:
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
        row = _job(session, job_id)
        if row.status == "succeeded":
            raise Conflict(f"batch job {job_id} already succeeded", field="job_id")
        live = _running(ctx.platform.settings.jobs_dir, row)
        if live or (row.status == "pending" and row.pid is None):
            raise Conflict(f"batch job {job_id} is still running", field="job_id")
        claimed = session.execute(
            sa.update(x.BatchJob)
            .where(
                x.BatchJob.id == job_id,
                x.BatchJob.status == row.status,
                x.BatchJob.attempts == row.attempts,
                x.BatchJob.pid.is_(None) if row.pid is None else x.BatchJob.pid == row.pid,
            )
            .values(status="pending", pid=None, message="resuming", ended_at=None)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"batch job {job_id} is being resumed already", field="job_id")
        session.refresh(row)
        info = _info(session, row)
    _launch(ctx.platform, job_id)
    return info


@operation("batch:DescribeBatchTransformJob", _job_resource, mutating=False)
def get_batch_job(ctx: RequestContext, job_id: str) -> BatchJobInfo:
    with ctx.platform.db.session() as session:
        return _info(session, _job(session, job_id))


@operation("batch:ListBatchTransformJobs", lambda: resource("batch-job"), mutating=False)
def list_batch_jobs(ctx: RequestContext, limit: int = 50) -> list[BatchJobInfo]:
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    with ctx.platform.db.session() as session:
        rows = session.scalars(
            sa.select(x.BatchJob).order_by(x.BatchJob.created_at.desc()).limit(limit)
        )
        return [_info(session, row) for row in rows]


@operation("batch:DescribeBatchTransformJob", _job_resource, mutating=False)
def read_batch_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log from byte ``offset``, with its status, for following by polling."""
    with ctx.platform.db.session() as session:
        row = _job(session, job_id)
        status, progress, message = row.status, row.progress, row.message
    return read_log_chunk(
        log_path(ctx.platform, job_id), offset, status=status, progress=progress, message=message
    )
