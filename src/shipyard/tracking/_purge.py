"""Purging deleted runs for good (MLflow's ``gc``): a tombstone stays in lineage.

Only runs already deleted (``delete_run``, restorable until now) are purged. Their params,
metric histories and latest values, tags and artifact rows go; each artifact blob is
purged unless something live still names it (another run's artifact, a model version, a
dataset file...), which the result lists. The run row stays, with who purged it, when and
why, because model versions, jobs and lineage name it: reading the run is a 404 saying so.
A run a live model version was registered from is refused (409 naming the version).

Runs are named by id, or chosen as an experiment's deleted runs (``older_than``: deleted
at least that long ago). Each run purged is authorized on its own resource
(``sy:run/<experiment>/<id>``); naming an experiment needs the action on it too. An
experiment's runs are chosen twice, to authorize and to purge: the purge takes only those
the check authorized (``checked_resources``). A named run that cannot be purged refuses
the whole call: nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import parse_since, utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import check_name, check_reason, resource
from shipyard.schemas.tracking import RunPurgeInfo
from shipyard.security import Access, RequestContext, ResourceName, checked_resources, operation
from shipyard.store.metadata import purge_unused_blobs, tombstone_text
from shipyard.store.metadata import tables as t
from shipyard.tracking._rows import run_resource

MAX_RUNS = 500
"""Runs one call purges; an experiment with more deleted runs says ``more``."""
_RUN_ROWS = (t.RunParam, t.RunTag, t.RunMetric, t.RunLatestMetric, t.RunArtifact)


def _ids(run_ids: list[str] | None) -> list[str]:
    ids = list(dict.fromkeys(run_ids or []))
    if len(ids) > MAX_RUNS:
        raise InvalidInput(f"at most {MAX_RUNS} runs per purge", field="run_ids")
    for index, run_id in enumerate(ids):
        if not isinstance(run_id, str) or not 1 <= len(run_id) <= 32:
            raise InvalidInput("a run id is 1 to 32 characters", field=f"run_ids.{index}")
    return ids


def _cutoff(older_than: str | None) -> datetime | None:
    """Runs deleted at or before this time are old enough (None: any deleted run)."""
    return None if older_than is None else parse_since(older_than, field="older_than")


def deleted_runs(
    session: Session, experiment: str, cutoff: datetime | None, limit: int | None = None
) -> list[str]:
    """Ids of ``experiment``'s deleted, unpurged runs (deleted by ``cutoff`` when given),
    longest deleted first."""
    query = (
        sa.select(t.Run.id)
        .join(t.Experiment, t.Experiment.id == t.Run.experiment_id)
        .where(
            t.Experiment.name == experiment,
            t.Run.deleted_at.is_not(None),
            t.Run.purged_at.is_(None),
        )
    )
    if cutoff is not None:
        query = query.where(t.Run.deleted_at <= cutoff)
    return list(session.scalars(query.order_by(t.Run.deleted_at, t.Run.id).limit(limit)))


def _targets(
    session: Session, run_ids: list[str] | None, experiment: str | None, older_than: str | None
) -> list[str]:
    """The runs a call names, or chooses from ``experiment`` when it names none."""
    ids = _ids(run_ids)
    if ids or experiment is None:
        return ids
    check_name(experiment, field="experiment")
    return deleted_runs(session, experiment, _cutoff(older_than), MAX_RUNS)


def _resource(
    session: Session, run_ids: list[str] | None, experiment: str | None
) -> ResourceName | str:
    if experiment is not None:
        return resource("experiment", experiment)
    ids = _ids(run_ids)
    return run_resource(session, ids[0]) if ids else resource("experiment")


def _uses(
    session: Session, run_ids: list[str] | None, experiment: str | None, older_than: str | None
) -> list[Access]:
    """Purging each run, on its own resource (the first named run is the primary)."""
    ids = _targets(session, run_ids, experiment, older_than)
    skip = 1 if experiment is None else 0
    return [Access("tracking:PurgeRun", run_resource(session, run_id)) for run_id in ids[skip:]]


@operation(
    "tracking:PurgeRun",
    _resource,
    uses=_uses,
    mutating=True,
    audit=lambda reason, dry_run: {"reason": reason, "dry_run": dry_run},
)
def purge_runs(
    ctx: RequestContext,
    run_ids: list[str] | None = None,
    experiment: str | None = None,
    older_than: str | None = None,
    reason: str = "",
    dry_run: bool = False,
) -> RunPurgeInfo:
    """Purge deleted runs for good: those named, or ``experiment``'s deleted runs (only
    those deleted ``older_than`` ago, e.g. ``30d``, when given); ``dry_run`` only lists."""
    reason = check_reason(reason, "purge")
    now = utcnow()
    cutoff = _cutoff(older_than)
    ids = _ids(run_ids)
    if not ids and experiment is None:
        raise InvalidInput("name the runs to purge, or an experiment", field="run_ids")
    more = False
    with ctx.platform.db.session() as session:
        if not ids:
            assert experiment is not None
            check_name(experiment, field="experiment")
            _experiment_row(session, experiment)
            chosen = deleted_runs(session, experiment, cutoff, MAX_RUNS + 1)
            # chosen again after the check: purge only runs the check authorized (a run
            # deleted in between waits for the next sweep)
            checked = checked_resources("tracking:PurgeRun")
            scoped = [r for r in chosen if run_resource(session, r).name in checked]
            ids, more = scoped[:MAX_RUNS], len(scoped) < len(chosen) or len(chosen) > MAX_RUNS
        rows = _doomed(session, ids, experiment, cutoff)
        _refuse_if_registered(session, ids)
        digests = _artifact_digests(session, ids)
        if not dry_run:
            _purge_rows(session, rows, ctx.principal, now, reason)
    db, blobs = ctx.platform.db, ctx.platform.blobs
    purged, kept = purge_unused_blobs(db, blobs, digests, dry_run=dry_run, skip_runs=ids)
    return RunPurgeInfo(
        resource_name=resource("experiment", experiment) if experiment else f"sy:run/{ids[0]}",
        purged=ids,
        purged_blobs=purged,
        kept_blobs=kept,
        purged_by=ctx.principal,
        purged_at=now,
        reason=reason,
        dry_run=dry_run,
        more=more,
    )


def _experiment_row(session: Session, name: str) -> t.Experiment:
    row = session.scalar(sa.select(t.Experiment).where(t.Experiment.name == name))
    if row is None:
        raise NotFound(f"experiment {name!r} does not exist", field="experiment")
    return row


def _doomed(
    session: Session, ids: list[str], experiment: str | None, cutoff: datetime | None
) -> list[t.Run]:
    """The runs ``ids``, locked, each checked: it exists, is deleted, not purged already,
    in ``experiment`` when given, deleted by ``cutoff`` when given."""
    found = {
        row.id: row
        for row in session.scalars(sa.select(t.Run).where(t.Run.id.in_(ids)).with_for_update())
    }
    in_experiment = None if experiment is None else _experiment_row(session, experiment).id
    rows = []
    for index, run_id in enumerate(ids):
        field = f"run_ids.{index}"
        row = found.get(run_id)
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist", field=field)
        if row.purged_at is not None:
            raise NotFound(
                f"run {run_id!r} was purged {tombstone_text(row, 'purged')}", field=field
            )
        if row.deleted_at is None:
            raise Conflict(
                f"run {run_id} is not deleted; only deleted runs are purged (delete it first)",
                field=field,
            )
        if in_experiment is not None and row.experiment_id != in_experiment:
            raise InvalidInput(f"run {run_id} is not in experiment {experiment!r}", field=field)
        if cutoff is not None and row.deleted_at > cutoff:
            raise Conflict(
                f"run {run_id} was deleted on {row.deleted_at:%Y-%m-%d %H:%M} UTC, "
                "not long enough ago (older_than)",
                field="older_than",
            )
        rows.append(row)
    return rows


def _refuse_if_registered(session: Session, ids: Sequence[str]) -> None:
    found = session.execute(
        sa.select(t.Model.name, t.ModelVersion.version, t.ModelVersion.run_id)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ModelVersion.run_id.in_(ids), t.ModelVersion.deleted_at.is_(None))
        .order_by(t.Model.name, t.ModelVersion.version)
        .limit(1)
    ).first()
    if found is not None:
        name, version, run_id = found
        raise Conflict(
            f"model version {name}@{version} was registered from run {run_id}; "
            "delete that version first",
            field="run_ids",
        )


def _artifact_digests(session: Session, ids: Sequence[str]) -> list[str]:
    return list(
        session.scalars(
            sa.select(t.RunArtifact.digest).where(t.RunArtifact.run_id.in_(ids)).distinct()
        )
    )


def _purge_rows(
    session: Session, rows: list[t.Run], principal: str, now: datetime, reason: str
) -> None:
    """Remove what the runs logged; keep each row as a tombstone."""
    ids = [row.id for row in rows]
    for table in _RUN_ROWS:
        session.execute(sa.delete(table).where(table.run_id.in_(ids)))
    for row in rows:
        row.purged_at, row.purged_by, row.purged_reason = now, principal, reason
    session.flush()
