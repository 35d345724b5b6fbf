"""Training jobs: validate a spec against its dataset, then train in a worker process."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.contracts import refuse_failed_validation
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput, NotFound
from shipyard.jobs._launcher import launch_worker, read_log_chunk
from shipyard.jobs._models import FINAL_STATUSES, LogChunk, TrainingJobInfo
from shipyard.names import NAME_PATTERN, check_name, parse_reference, resource
from shipyard.platform import Platform
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    from shipyard.training import TrainingSpec

WORKER_MODULE = "shipyard.jobs._worker"


def log_path(platform: Platform, job_id: str) -> Path:
    return platform.settings.jobs_dir / f"{job_id}.log"


def _job(session: Session, job_id: str) -> t.TrainingJob:
    row = session.get(t.TrainingJob, job_id)
    if row is None:
        raise NotFound(f"training job {job_id!r} does not exist", field="job_id")
    return row


def _info(session: Session, row: t.TrainingJob) -> TrainingJobInfo:
    name, version = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.id == row.dataset_version_id)
    ).one()
    return TrainingJobInfo(
        id=row.id,
        name=row.name,
        status=row.status,
        progress=row.progress,
        message=row.message,
        dataset=f"{name}@{version}",
        run_id=row.run_id,
        spec=row.spec,
        created_by=row.created_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
    )


def _check_against_dataset(spec: TrainingSpec, version: t.DatasetVersion) -> None:
    """Refuse before any work starts: unknown target or features, nulls in the target,
    preprocessing roles that do not fit the columns."""
    from shipyard.training import check_columns

    check_columns(spec, {c["name"]: c["type"] for c in version.schema})
    columns = {c["name"] for c in version.schema}
    if spec.target not in columns:
        raise InvalidInput(
            f"column {spec.target!r} is not in dataset columns {sorted(columns)}", field="target"
        )
    for feature in spec.features or []:
        if feature not in columns:
            raise InvalidInput(f"column {feature!r} is not in the dataset", field="features")
    profile = {c["name"]: c for c in version.profile.get("columns", [])}
    nulls = profile.get(spec.target, {}).get("nulls", 0)
    if nulls:
        raise InvalidInput(f"target column {spec.target!r} has {nulls} null values", field="target")


def _spec_text(spec: object, key: str, default: str | None = None) -> str | None:
    value = spec.get(key, default) if isinstance(spec, dict) else None
    return value if isinstance(value, str) else None


def _new_job_resource(spec: dict[str, Any]) -> str:
    """New jobs are named by their experiment: ``sy:training-job/<experiment>``."""
    experiment = _spec_text(spec, "experiment", "default")
    return resource("training-job", experiment if experiment and _named(experiment) else "*")


def _named(value: str) -> bool:
    return NAME_PATTERN.fullmatch(value) is not None


def _training_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    """Reading the dataset version it trains on, and a run in its experiment."""
    found = []
    dataset = _spec_text(spec, "dataset")
    if dataset:
        found.append(
            Access("datasets:ReadData", dataset_ref_resource(session, dataset, field="dataset"))
        )
    experiment = _spec_text(spec, "experiment", "default")
    if experiment and _named(experiment):
        found.append(Access("tracking:CreateRun", resource("experiment", experiment)))
    return found


@operation("training:CreateTrainingJob", _new_job_resource, uses=_training_uses, mutating=True)
def create_training_job(ctx: RequestContext, spec: dict[str, Any]) -> TrainingJobInfo:
    """Check a training spec, then start it in a worker process; poll the job for progress."""
    from shipyard.training import parse_spec  # scikit-learn & co. load only when training

    parsed = parse_spec(spec)
    ref = parse_reference(parsed.dataset, field="dataset")
    if ref.alias is not None:
        raise InvalidInput("datasets are named by version (name@3), not alias", field="dataset")
    check_name(parsed.experiment, field="experiment")
    with ctx.platform.db.session() as session:
        version = find_version(session, ref.name, ref.version)
        _check_against_dataset(parsed, version)
        if not parsed.force:
            refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
        job_id = uuid.uuid4().hex
        stored = parsed.model_dump(mode="json")
        stored["dataset"] = f"{ref.name}@{version.version}"
        row = t.TrainingJob(
            id=job_id,
            name=parsed.name or f"{parsed.estimator.rsplit('.', 1)[-1]}-{job_id[:6]}",
            spec=stored,
            dataset_version_id=version.id,
            created_by=ctx.principal,
        )
        session.add(row)
        session.flush()
        info = _info(session, row)
    platform = ctx.platform
    launch_worker(
        WORKER_MODULE,
        job_id,
        platform.settings,
        log_path(platform, job_id),
        lambda code: _mark_if_died(platform, job_id, code),
    )
    return info


def _mark_if_died(platform: Platform, job_id: str, exit_code: int) -> None:
    """A worker that exits without recording an outcome has failed."""
    with platform.db.session() as session:
        row = session.get(t.TrainingJob, job_id)
        if row is not None and row.status not in FINAL_STATUSES:
            row.status = "failed"
            row.message = f"worker process exited with code {exit_code}"
            row.ended_at = utcnow()


def _job_resource(session: Session, job_id: str) -> ResourceName:
    """``sy:training-job/<experiment>/<id>`` (also ``sy:training-job/<id>``)."""
    spec = session.scalar(sa.select(t.TrainingJob.spec).where(t.TrainingJob.id == job_id))
    experiment = _spec_text(spec, "experiment", "default")
    return ResourceName.scoped("training-job", experiment, job_id)


@operation("training:DescribeTrainingJob", _job_resource, mutating=False)
def get_training_job(ctx: RequestContext, job_id: str) -> TrainingJobInfo:
    with ctx.platform.db.session() as session:
        return _info(session, _job(session, job_id))


@operation("training:ListTrainingJobs", lambda: resource("training-job"), mutating=False)
def list_training_jobs(ctx: RequestContext, limit: int = 50) -> list[TrainingJobInfo]:
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    with ctx.platform.db.session() as session:
        rows = session.scalars(
            sa.select(t.TrainingJob).order_by(t.TrainingJob.created_at.desc()).limit(limit)
        )
        return [_info(session, row) for row in rows]


@operation("training:DescribeTrainingJob", _job_resource, mutating=False)
def read_training_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log from byte ``offset``, with its status, for streaming by polling."""
    with ctx.platform.db.session() as session:
        row = _job(session, job_id)
        status, progress, message = row.status, row.progress, row.message
    return read_log_chunk(
        log_path(ctx.platform, job_id), offset, status=status, progress=progress, message=message
    )
