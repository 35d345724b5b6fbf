"""Experiment tracking: experiments, runs, batched metrics, params, tags and artifacts."""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import epoch_seconds, utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.security import RequestContext, ResourceName, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._models import ArtifactInfo, ExperimentInfo, MetricPoint, RunInfo

RUN_STATUSES = ("running", "finished", "failed", "killed")
_ARTIFACT_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_MAX_ARTIFACT_PATH = 500  # the run_artifacts.path column
MAX_RUN_NAME = 200
MAX_KEY = 250  # of a metric, param or tag, as in MLflow
_MAX_BATCH = 10_000


_RUN_EXPERIMENTS: dict[str, str] = {}
"""Run id -> experiment name, for authorizing the tracking hot path without a query per
call: a run never moves to another experiment and run ids are random 128-bit values."""


def run_resource(session: Session, run_id: str) -> ResourceName:
    """``sy:run/<experiment>/<run_id>`` (also ``sy:run/<run_id>``): runs are scoped by their
    experiment, so a policy can give a tenant its experiments' runs and nothing else."""
    experiment = _RUN_EXPERIMENTS.get(run_id)
    if experiment is None:
        experiment = session.scalar(
            sa.select(t.Experiment.name)
            .join(t.Run, t.Run.experiment_id == t.Experiment.id)
            .where(t.Run.id == run_id)
        )
        if experiment is not None:
            if len(_RUN_EXPERIMENTS) >= 10_000:
                _RUN_EXPERIMENTS.clear()
            _RUN_EXPERIMENTS[run_id] = experiment
    return ResourceName.scoped("run", experiment, run_id)


def ensure_experiment(session: Session, name: str) -> t.Experiment:
    """The experiment named ``name``, created when missing."""
    check_name(name, field="experiment")
    row = session.scalar(sa.select(t.Experiment).where(t.Experiment.name == name))
    if row is None:
        row = t.Experiment(name=name)
        session.add(row)
        session.flush()
    return row


def _run(session: Session, run_id: str) -> t.Run:
    row = session.get(t.Run, run_id)
    if row is None:
        raise NotFound(f"run {run_id!r} does not exist", field="run_id")
    return row


@operation("tracking:CreateExperiment", lambda name: resource("experiment", name), mutating=True)
def create_experiment(ctx: RequestContext, name: str) -> ExperimentInfo:
    with ctx.platform.db.session() as session:
        check_name(name)
        if session.scalar(sa.select(t.Experiment.id).where(t.Experiment.name == name)):
            raise Conflict(f"experiment {name!r} already exists", field="name")
        row = ensure_experiment(session, name)
        return ExperimentInfo(name=row.name, id=row.id, created_at=row.created_at)


@operation("tracking:ListExperiments", lambda: resource("experiment"), mutating=False)
def list_experiments(ctx: RequestContext) -> list[ExperimentInfo]:
    query = (
        sa.select(t.Experiment, sa.func.count(t.Run.id))
        .outerjoin(t.Run, t.Run.experiment_id == t.Experiment.id)
        .group_by(t.Experiment.id)
        .order_by(t.Experiment.name)
    )
    with ctx.platform.db.session() as session:
        return [
            ExperimentInfo(name=e.name, id=e.id, created_at=e.created_at, runs=n)
            for e, n in session.execute(query)
        ]


def start_run(
    session: Session,
    *,
    experiment: str,
    principal: str,
    name: str | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> t.Run:
    """Insert a running run (for service code that already authorized its caller)."""
    if name is not None and len(name) > MAX_RUN_NAME:
        raise InvalidInput(f"must be at most {MAX_RUN_NAME} characters", field="name")
    exp = ensure_experiment(session, experiment)
    run_id = uuid.uuid4().hex
    row = t.Run(id=run_id, experiment_id=exp.id, name=name or run_id[:8], created_by=principal)
    session.add(row)
    session.flush()
    _write(session, run_id, [], params or {}, tags or {})
    return row


@operation(
    "tracking:CreateRun", lambda experiment: resource("experiment", experiment), mutating=True
)
def create_run(
    ctx: RequestContext,
    experiment: str = "default",
    name: str | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> RunInfo:
    """Start a run in an experiment (created on first use)."""
    with ctx.platform.db.session() as session:
        row = start_run(
            session,
            experiment=experiment,
            principal=ctx.principal,
            name=name,
            params=params,
            tags=tags,
        )
        return RunInfo(
            id=row.id,
            experiment=experiment,
            name=row.name,
            status=row.status,
            created_by=row.created_by,
            start_time=row.start_time,
            end_time=None,
            params={k: str(v) for k, v in (params or {}).items()},
            tags={k: str(v) for k, v in (tags or {}).items()},
        )


_METRIC_COLUMNS = ("run_id", "key", "value", "step", "timestamp")


@functools.cache
def _metric_insert_sql(dialect: sa.Dialect) -> str:
    """A driver-level INSERT for metric rows: bulk appends skip per-row ORM work."""
    quote = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(quote(c) for c in _METRIC_COLUMNS)
    values = ", ".join([marker] * len(_METRIC_COLUMNS))
    return f"INSERT INTO {quote(t.RunMetric.__tablename__)} ({columns}) VALUES ({values})"


def _check_keys(kind: str, keys: Iterable[str]) -> None:
    for key in keys:
        if not key or len(key) > MAX_KEY:
            raise InvalidInput(f"keys must be 1 to {MAX_KEY} characters", field=kind)


def _write(
    session: Session,
    run_id: str,
    metrics: list[MetricPoint],
    params: dict[str, str],
    tags: dict[str, str],
) -> None:
    _check_keys("metrics", [m.key for m in metrics])
    _check_keys("params", params)
    _check_keys("tags", tags)
    now = epoch_seconds()
    if metrics:
        rows = [
            (run_id, m.key, m.value, m.step, now if m.timestamp is None else m.timestamp)
            for m in metrics
        ]
        connection = session.connection()
        connection.exec_driver_sql(_metric_insert_sql(connection.dialect), rows)
    if params:
        existing = dict(
            session.execute(
                sa.select(t.RunParam.key, t.RunParam.value).where(
                    t.RunParam.run_id == run_id, t.RunParam.key.in_(list(params))
                )
            ).all()
        )
        for key, value in params.items():
            if key in existing and existing[key] != str(value):
                raise Conflict(
                    f"param {key!r} is already {existing[key]!r}; params cannot change",
                    field=f"params.{key}",
                )
        new = [{"run_id": run_id, "key": k, "value": str(v)} for k, v in params.items()]
        fresh = [row for row in new if row["key"] not in existing]
        if fresh:
            session.execute(sa.insert(t.RunParam), fresh)
    for key, value in tags.items():
        session.merge(t.RunTag(run_id=run_id, key=key, value=str(value)))


def write_batch(
    session: Session,
    run_id: str,
    metrics: list[MetricPoint],
    params: dict[str, str],
    tags: dict[str, str],
) -> None:
    """Append metrics and set params/tags on a running run, checked, in the caller's session."""
    if len(metrics) > _MAX_BATCH:
        raise InvalidInput(f"at most {_MAX_BATCH} metrics per batch", field="metrics")
    for i, m in enumerate(metrics):
        if not math.isfinite(m.value):
            raise InvalidInput(f"{m.key} is not a finite number", field=f"metrics.{i}.value")
    row = _run(session, run_id)
    if row.status != "running":
        raise Conflict(f"run {run_id} is {row.status}; only running runs take logs", field="run_id")
    _write(session, run_id, metrics, params, tags)


@operation("tracking:LogBatch", run_resource, mutating=True)
def log_batch(
    ctx: RequestContext,
    run_id: str,
    metrics: list[MetricPoint] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Append a batch of metrics, and set params (write-once) and tags, in one transaction."""
    with ctx.platform.db.session() as session:
        write_batch(session, run_id, metrics or [], params or {}, tags or {})


@operation("tracking:EndRun", run_resource, mutating=True)
def end_run(ctx: RequestContext, run_id: str, status: str = "finished") -> RunInfo:
    if status not in RUN_STATUSES[1:]:
        raise InvalidInput(f"must be one of {', '.join(RUN_STATUSES[1:])}", field="status")
    with ctx.platform.db.session() as session:
        row = _run(session, run_id)
        row.status = status
        row.end_time = utcnow()
        return run_info(session, row)


def run_info(session: Session, row: t.Run) -> RunInfo:
    experiment = session.get(t.Experiment, row.experiment_id)
    ranked = (
        sa.select(
            t.RunMetric.key,
            t.RunMetric.value,
            sa.func.row_number()
            .over(
                partition_by=t.RunMetric.key,
                order_by=(
                    t.RunMetric.step.desc(),
                    t.RunMetric.timestamp.desc(),
                    t.RunMetric.id.desc(),
                ),
            )
            .label("rank"),
        )
        .where(t.RunMetric.run_id == row.id)
        .subquery()
    )
    latest = sa.select(ranked.c.key, ranked.c.value).where(ranked.c.rank == 1)
    inputs = (
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .select_from(t.RunInput)
        .join(t.DatasetVersion, t.DatasetVersion.id == t.RunInput.dataset_version_id)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.RunInput.run_id == row.id)
    )
    return RunInfo(
        id=row.id,
        experiment=experiment.name if experiment else "",
        name=row.name,
        status=row.status,
        created_by=row.created_by,
        start_time=row.start_time,
        end_time=row.end_time,
        deleted=row.deleted_at is not None,
        params=dict(
            session.execute(
                sa.select(t.RunParam.key, t.RunParam.value).where(t.RunParam.run_id == row.id)
            ).all()
        ),
        tags=dict(
            session.execute(
                sa.select(t.RunTag.key, t.RunTag.value).where(t.RunTag.run_id == row.id)
            ).all()
        ),
        metrics=dict(session.execute(latest).all()),
        artifacts=[
            ArtifactInfo(path=a.path, digest=a.digest, size_bytes=a.size_bytes)
            for a in session.scalars(sa.select(t.RunArtifact).where(t.RunArtifact.run_id == row.id))
        ],
        inputs=[f"{n}@{v}" for n, v in session.execute(inputs)],
    )


@operation("tracking:GetRun", run_resource, mutating=False)
def get_run(ctx: RequestContext, run_id: str) -> RunInfo:
    with ctx.platform.db.session() as session:
        return run_info(session, _run(session, run_id))


RUN_VIEWS: dict[str, tuple[sa.ColumnElement[bool], ...]] = {
    "active": (t.Run.deleted_at.is_(None),),
    "deleted": (t.Run.deleted_at.is_not(None),),
    "all": (),
}


@operation(
    "tracking:ListRuns", lambda experiment: resource("experiment", experiment), mutating=False
)
def list_runs(
    ctx: RequestContext, experiment: str = "default", limit: int = 100, view: str = "active"
) -> list[RunInfo]:
    """The newest runs of an experiment: ``active`` ones (not deleted), ``deleted`` or ``all``."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    if view not in RUN_VIEWS:
        raise InvalidInput(f"must be one of {', '.join(RUN_VIEWS)}", field="view")
    with ctx.platform.db.session() as session:
        exp = session.scalar(sa.select(t.Experiment).where(t.Experiment.name == experiment))
        if exp is None:
            raise NotFound(f"experiment {experiment!r} does not exist", field="experiment")
        rows = session.scalars(
            sa.select(t.Run)
            .where(t.Run.experiment_id == exp.id, *RUN_VIEWS[view])
            .order_by(t.Run.start_time.desc())
            .limit(limit)
        )
        return [run_info(session, r) for r in rows]


@operation("tracking:GetRun", run_resource, mutating=False)
def metric_history(ctx: RequestContext, run_id: str, key: str) -> list[MetricPoint]:
    """Every logged value of one metric, by step."""
    with ctx.platform.db.session() as session:
        _run(session, run_id)
        rows = session.scalars(
            sa.select(t.RunMetric)
            .where(t.RunMetric.run_id == run_id, t.RunMetric.key == key)
            .order_by(t.RunMetric.step, t.RunMetric.timestamp, t.RunMetric.id)
        )
        return [
            MetricPoint(key=m.key, value=m.value, step=m.step, timestamp=m.timestamp) for m in rows
        ]


def store_artifact(
    platform: Platform, session: Session, run_id: str, path: str, data: bytes
) -> ArtifactInfo:
    """Put bytes in the blob store and record them under ``path`` of the run."""
    check_artifact_path(path)
    digest = platform.blobs.put_bytes(data)
    session.merge(t.RunArtifact(run_id=run_id, path=path, digest=digest, size_bytes=len(data)))
    return ArtifactInfo(path=path, digest=digest, size_bytes=len(data))


@operation("tracking:LogArtifact", run_resource, mutating=True)
def log_artifact(ctx: RequestContext, run_id: str, path: str, content: bytes) -> ArtifactInfo:
    """Attach a file to a run; stored content-addressed in the blob store."""
    with ctx.platform.db.session() as session:
        _run(session, run_id)
        return store_artifact(ctx.platform, session, run_id, path, content)


def check_artifact_path(path: str) -> str:
    """Refuse any artifact path but ``a/b.c``-style segments: no ``.``, ``..``, empty
    segments, absolute paths, backslashes or control characters, at most 500 characters."""
    segments = path.split("/")
    if (
        len(path) > _MAX_ARTIFACT_PATH
        or not all(_ARTIFACT_SEGMENT.fullmatch(s) for s in segments)
        or any(s in (".", "..") for s in segments)
    ):
        raise InvalidInput(
            "must be a relative path of '/'-separated segments of letters, digits, '.', '_', "
            f"'-' (no '.' or '..' segments, at most {_MAX_ARTIFACT_PATH} characters)",
            field="path",
        )
    return path


def artifact_row(session: Session, run_id: str, path: str) -> t.RunArtifact:
    row = session.get(t.RunArtifact, (run_id, path))
    if row is None:
        raise NotFound(f"run {run_id} has no artifact {path!r}", field="path")
    return row


@operation("tracking:GetArtifact", run_resource, mutating=False)
def get_artifact(ctx: RequestContext, run_id: str, path: str) -> bytes:
    """An artifact's bytes, digest-checked."""
    check_artifact_path(path)
    with ctx.platform.db.session() as session:
        digest = artifact_row(session, run_id, path).digest
    return ctx.platform.blobs.get_bytes(digest)
