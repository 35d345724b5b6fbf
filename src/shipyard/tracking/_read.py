"""Reading runs: many runs in a few queries, latest metrics from their own table, and
metric histories as columns."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import resource
from shipyard.schemas.tracking import ArtifactInfo, MetricPoint, MetricSeries, RunInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._rows import run_resource, run_row

_CHUNK = 500  # run ids per IN list, well under every backend's bound-parameter limit


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _among(column: Any, ids: Sequence[str]) -> Any:
    """``column IN ids``, or ``=`` for one id (no expanding parameter to render)."""
    return column == ids[0] if len(ids) == 1 else column.in_(ids)


def _pairs(
    session: Session, ids: Sequence[str], table: type[t.RunParam] | type[t.RunTag]
) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for chunk in _chunks(ids):
        query = sa.select(table.run_id, table.key, table.value).where(_among(table.run_id, chunk))
        for run_id, key, value in session.execute(query):
            found[run_id][key] = value
    return found


def run_infos(session: Session, rows: Sequence[t.Run]) -> list[RunInfo]:
    """Each run's full record, in the order given, with one query per kind of detail."""
    ids = [r.id for r in rows]
    experiments = dict(
        session.execute(
            sa.select(t.Experiment.id, t.Experiment.name).where(
                t.Experiment.id.in_(list({r.experiment_id for r in rows}))
            )
        ).all()
    )
    params, tags = _pairs(session, ids, t.RunParam), _pairs(session, ids, t.RunTag)
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    artifacts: dict[str, list[ArtifactInfo]] = defaultdict(list)
    inputs: dict[str, list[str]] = defaultdict(list)
    models: dict[str, list[str]] = defaultdict(list)
    latest = t.RunLatestMetric
    for chunk in _chunks(ids):
        query = sa.select(latest.run_id, latest.key, latest.value)
        query = query.where(_among(latest.run_id, chunk))
        for run_id, key, value in session.execute(query):
            metrics[run_id][key] = value
        stored = sa.select(t.RunArtifact).where(_among(t.RunArtifact.run_id, chunk))
        for a in session.scalars(stored.order_by(t.RunArtifact.path)):
            artifacts[a.run_id].append(
                ArtifactInfo(path=a.path, digest=a.digest, size_bytes=a.size_bytes)
            )
        read = (
            sa.select(t.RunInput.run_id, t.Dataset.name, t.DatasetVersion.version)
            .join(t.DatasetVersion, t.DatasetVersion.id == t.RunInput.dataset_version_id)
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(_among(t.RunInput.run_id, chunk))
        )
        for run_id, name, version in session.execute(read):
            inputs[run_id].append(f"{name}@{version}")
        continued = (
            sa.select(t.RunModelInput.run_id, t.Model.name, t.ModelVersion.version)
            .join(t.ModelVersion, t.ModelVersion.id == t.RunModelInput.model_version_id)
            .join(t.Model, t.Model.id == t.ModelVersion.model_id)
            .where(_among(t.RunModelInput.run_id, chunk))
        )
        for run_id, name, version in session.execute(continued):
            models[run_id].append(f"{name}@{version}")
    return [
        RunInfo(
            id=r.id,
            experiment=experiments.get(r.experiment_id, ""),
            name=r.name,
            status=r.status,
            created_by=r.created_by,
            start_time=r.start_time,
            end_time=r.end_time,
            parent_run_id=r.parent_run_id,
            deleted=r.deleted_at is not None,
            params=params.get(r.id, {}),
            tags=tags.get(r.id, {}),
            metrics=metrics.get(r.id, {}),
            artifacts=artifacts.get(r.id, []),
            inputs=inputs.get(r.id, []),
            input_models=models.get(r.id, []),
        )
        for r in rows
    ]


def run_info(session: Session, row: t.Run) -> RunInfo:
    return run_infos(session, [row])[0]


@operation("tracking:GetRun", run_resource, mutating=False)
def get_run(ctx: RequestContext, run_id: str) -> RunInfo:
    """A run with its params, tags, latest metric values, artifacts and inputs."""
    with ctx.platform.db.session() as session:
        return run_info(session, run_row(session, run_id))


RUN_VIEWS = ("active", "deleted", "all")


def run_view(view: str) -> tuple[sa.ColumnElement[bool], ...]:
    """The condition of a run view: ``active`` runs (not deleted), ``deleted`` or ``all``
    (purged runs are in none: only lineage shows their tombstones)."""
    if view not in RUN_VIEWS:
        raise InvalidInput(f"must be one of {', '.join(RUN_VIEWS)}", field="view")
    kept = t.Run.purged_at.is_(None)
    if view == "all":
        return (kept,)
    deleted = t.Run.deleted_at.is_(None) if view == "active" else t.Run.deleted_at.is_not(None)
    return (deleted, kept)


@operation(
    "tracking:ListRuns", lambda experiment: resource("experiment", experiment), mutating=False
)
def list_runs(
    ctx: RequestContext, experiment: str = "default", limit: int = 100, view: str = "active"
) -> list[RunInfo]:
    """The newest runs of an experiment: ``active`` ones (not deleted), ``deleted`` or ``all``
    (``search_runs`` filters, sorts and pages)."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    with ctx.platform.db.session() as session:
        exp = session.scalar(sa.select(t.Experiment).where(t.Experiment.name == experiment))
        if exp is None:
            raise NotFound(f"experiment {experiment!r} does not exist", field="experiment")
        rows = session.scalars(
            sa.select(t.Run)
            .where(t.Run.experiment_id == exp.id, *run_view(view))
            .order_by(t.Run.start_time.desc(), t.Run.id)
            .limit(limit)
        ).all()
        return run_infos(session, rows)


@functools.cache
def _series_sql(dialect: sa.Dialect, one_key: bool) -> str:
    """A history scan in the order of the covering index ``(run_id, key, step, timestamp,
    value)`` (then the write order), so SQLite reads no table row and sorts nothing."""
    q = dialect.identifier_preparer.quote
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    key, step, value, stamp = (q(n) for n in ("key", "step", "value", "timestamp"))
    where = f"{q('run_id')} = {marker}" + (f" AND {key} = {marker}" if one_key else "")
    return (
        f"SELECT {key}, {step}, {value}, {stamp} FROM {q(t.RunMetric.__tablename__)}"
        f" WHERE {where} ORDER BY {key}, {step}, {stamp}, {value}, {q('id')}"
    )


def read_series(session: Session, run_id: str, key: str | None = None) -> list[MetricSeries]:
    """A run's metric histories (every key, or one) from a single ordered scan, read at the
    driver: a 100,000-point history is three lists, not 100,000 objects."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            _series_sql(connection.dialect, key is not None),
            (run_id,) if key is None else (run_id, key),
        )
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns: dict[str, tuple[list[int], list[float], list[float]]] = {}
    current: str | None = None
    steps: list[int] = []
    values: list[float] = []
    stamps: list[float] = []
    for name, step, value, stamp in rows:
        if name != current:
            current = name
            steps, values, stamps = columns.setdefault(name, ([], [], []))
        steps.append(step)
        values.append(value)
        stamps.append(stamp)
    return [
        MetricSeries.model_construct(key=k, steps=s, values=v, timestamps=ts)
        for k, (s, v, ts) in columns.items()
    ]


@operation("tracking:GetRun", run_resource, mutating=False)
def metric_series(ctx: RequestContext, run_id: str, key: str | None = None) -> list[MetricSeries]:
    """Every logged value of a run's metrics (or of one), as columns: the fast way to read
    a long history."""
    with ctx.platform.db.session() as session:
        run_row(session, run_id)
        return read_series(session, run_id, key)


@operation("tracking:GetRun", run_resource, mutating=False)
def metric_history(ctx: RequestContext, run_id: str, key: str) -> list[MetricPoint]:
    """Every logged value of one metric, by step."""
    with ctx.platform.db.session() as session:
        run_row(session, run_id)
        series = read_series(session, run_id, key)
    return series[0].points() if series else []
