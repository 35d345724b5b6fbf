"""Applying retention rules: each deletion goes through its own operation, as the caller.

A dry run lists what would go without deleting. A delete that is refused (the caller may
not delete there; a feature view reads the version; a live model version came from the
run) is reported under ``skipped`` and the other rules still run. Deleted runs are purged
one call each, so one refused run does not hold back the others.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.datasets import delete
from shipyard.endpoints import delete_captures
from shipyard.endpoints._capture_delete import hour_key
from shipyard.errors import InvalidInput, ShipyardError
from shipyard.names import resource
from shipyard.retention._rules import KINDS, rule_info
from shipyard.schemas.retention import RetentionOutcome, RetentionReport, RetentionRule
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables, erasure_tables
from shipyard.store.metadata import tables as t
from shipyard.tracking import deleted_runs, purge_runs


@operation("retention:ApplyRules", lambda: resource("retention"), mutating=True)
def apply(ctx: RequestContext, dry_run: bool = False, kind: str | None = None) -> RetentionReport:
    """Apply every rule (of ``kind``, if given); ``dry_run`` only reports what would go."""
    rules = erasure_tables.RetentionRule
    query = sa.select(rules).order_by(rules.kind, rules.target)
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"expected one of {', '.join(KINDS)}, got {kind!r}", field="kind")
        query = query.where(rules.kind == kind)
    with ctx.platform.db.session() as session:
        found = [rule_info(row) for row in session.scalars(query)]
    return RetentionReport(
        dry_run=dry_run, outcomes=[apply_rule(ctx, rule, dry_run=dry_run) for rule in found]
    )


def apply_rule(ctx: RequestContext, rule: RetentionRule, *, dry_run: bool) -> RetentionOutcome:
    """Apply one rule as ``ctx``'s principal."""
    outcome = RetentionOutcome(kind=rule.kind, target=rule.target)
    if rule.kind == "captures":
        assert rule.days is not None
        _captures(ctx, rule.target, rule.days, outcome, dry_run)
    elif rule.kind == "deleted_runs":
        assert rule.days is not None
        _deleted_runs(ctx, rule.target, rule.days, outcome, dry_run)
    else:
        assert rule.keep_last is not None
        _dataset_versions(ctx, rule.target, rule.keep_last, outcome, dry_run)
    return outcome


def _captures(
    ctx: RequestContext, endpoint: str, days: int, outcome: RetentionOutcome, dry_run: bool
) -> None:
    cutoff = utcnow() - timedelta(days=days)
    files = endpoint_tables.CaptureFile
    with ctx.platform.db.session() as session:
        hours = session.scalars(
            sa.select(files.hour)
            .where(files.endpoint == endpoint, files.hour < hour_key(cutoff))
            .distinct()
            .order_by(files.hour)
        ).all()
    if dry_run or not hours:
        outcome.deleted = [f"capture {endpoint} {hour}" for hour in hours]
        return
    try:
        done = delete_captures(
            ctx, endpoint, before=cutoff, reason=f"retention: captures older than {days} days"
        )
    except ShipyardError as error:
        outcome.skipped.append(f"captures of {endpoint}: {error.message}")
        return
    outcome.deleted, outcome.purged_blobs = done.deleted, done.purged_blobs


def _dataset_versions(
    ctx: RequestContext, dataset: str, keep_last: int, outcome: RetentionOutcome, dry_run: bool
) -> None:
    with ctx.platform.db.session() as session:
        numbers = session.scalars(
            sa.select(t.DatasetVersion.version)
            .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
            .where(t.Dataset.name == dataset, t.DatasetVersion.deleted_at.is_(None))
            .order_by(t.DatasetVersion.version.desc())
        ).all()
    for number in sorted(numbers[keep_last:]):
        if dry_run:
            outcome.deleted.append(f"{dataset}@{number}")
            continue
        try:
            done = delete(
                ctx,
                dataset,
                version=number,
                reason=f"retention: keep the last {keep_last} versions",
            )
        except ShipyardError as error:
            outcome.skipped.append(f"{dataset}@{number}: {error.message}")
            continue
        outcome.deleted += done.deleted
        outcome.purged_blobs += done.purged_blobs


def _deleted_runs(
    ctx: RequestContext, experiment: str, days: int, outcome: RetentionOutcome, dry_run: bool
) -> None:
    with ctx.platform.db.session() as session:
        doomed = deleted_runs(session, experiment, utcnow() - timedelta(days=days))
    for run_id in doomed:
        if dry_run:
            outcome.deleted.append(f"run {run_id}")
            continue
        try:
            done = purge_runs(
                ctx,
                run_ids=[run_id],
                experiment=experiment,
                reason=f"retention: deleted runs older than {days} days",
            )
        except ShipyardError as error:
            outcome.skipped.append(f"run {run_id}: {error.message}")
            continue
        outcome.deleted += [f"run {purged}" for purged in done.purged]
        outcome.purged_blobs += done.purged_blobs
