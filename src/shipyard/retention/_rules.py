"""Retention rules: one per (kind, target), set, listed and removed as operations.

Setting a rule needs the delete action the rule will exercise on its target (a rule is a
standing delete): ``endpoints:DeleteCapture`` on the endpoint, ``datasets:DeleteDataset``
on the dataset, ``tracking:PurgeRun`` on the experiment whose deleted runs it purges.
Applying it deletes as whoever applies it (``retention apply``) or as the rule's creator
(the scheduler), each delete authorized on its own.
"""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.retention import RetentionKind, RetentionRule
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import erasure_tables

KINDS: tuple[RetentionKind, ...] = ("captures", "dataset_versions", "deleted_runs")
_BY_AGE = ("captures", "deleted_runs")
"""Kinds kept by age (``days``); dataset versions are kept by count (``keep_last``)."""


def rule_resource(kind: str, target: str) -> ResourceName:
    return ResourceName(resource("retention", f"{kind}/{target}"))


def target_access(kind: str, target: str) -> list[Access]:
    """The delete a rule of ``kind`` exercises on ``target``."""
    if kind == "captures":
        return [Access("endpoints:DeleteCapture", ResourceName(resource("endpoint", target)))]
    if kind == "dataset_versions":
        return [Access("datasets:DeleteDataset", ResourceName.versioned("dataset", target, None))]
    if kind == "deleted_runs":  # the primary access of each purge the rule makes
        return [Access("tracking:PurgeRun", ResourceName(resource("experiment", target)))]
    return []


def rule_info(row: erasure_tables.RetentionRule) -> RetentionRule:
    return RetentionRule(
        kind=row.kind,
        target=row.target,
        days=row.days,
        keep_last=row.keep_last,
        every_seconds=row.every_seconds,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _check(kind: str, target: str, days: int | None, keep_last: int | None, every: int) -> None:
    if kind not in KINDS:
        raise InvalidInput(f"expected one of {', '.join(KINDS)}, got {kind!r}", field="kind")
    check_name(target, field="target")
    if kind in _BY_AGE:
        what = kind.replace("_", " ")
        if days is None or not 1 <= days <= 36_500:
            raise InvalidInput(f"{what} need days between 1 and 36500", field="days")
        if keep_last is not None:
            raise InvalidInput(f"{what} are kept by age (days), not count", field="keep_last")
    else:
        if keep_last is None or not 1 <= keep_last <= 10_000:
            raise InvalidInput(
                "dataset versions need keep_last between 1 and 10000", field="keep_last"
            )
        if days is not None:
            raise InvalidInput("dataset versions are kept by count (keep_last)", field="days")
    if not 60 <= every <= 7 * 86_400:
        raise InvalidInput("between 60 seconds and 7 days", field="every_seconds")


@operation(
    "retention:PutRule",
    rule_resource,
    uses=lambda kind, target: target_access(kind, target),
    mutating=True,
)
def put_rule(
    ctx: RequestContext,
    kind: str,
    target: str,
    days: int | None = None,
    keep_last: int | None = None,
    every_seconds: int = 3600,
) -> RetentionRule:
    """Set (or replace) the retention rule of one endpoint's captures, one dataset's
    versions, or one experiment's deleted runs."""
    _check(kind, target, days, keep_last, every_seconds)
    rules = erasure_tables.RetentionRule
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(rules).where(rules.kind == kind, rules.target == target))
        if row is None:
            row = rules(kind=kind, target=target, created_by=ctx.principal)
            session.add(row)
        row.days, row.keep_last, row.every_seconds = days, keep_last, every_seconds
        row.created_by = ctx.principal  # the scheduler applies it as whoever set it last
        session.flush()
        return rule_info(row)


@operation("retention:ListRules", lambda: resource("retention"), mutating=False)
def list_rules(ctx: RequestContext) -> list[RetentionRule]:
    rules = erasure_tables.RetentionRule
    with ctx.platform.db.session() as session:
        rows = session.scalars(sa.select(rules).order_by(rules.kind, rules.target))
        return [rule_info(row) for row in rows]


@operation("retention:DeleteRule", rule_resource, mutating=True)
def delete_rule(ctx: RequestContext, kind: str, target: str) -> RetentionRule:
    rules = erasure_tables.RetentionRule
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(rules).where(rules.kind == kind, rules.target == target))
        if row is None:
            raise NotFound(f"no retention rule for {kind} of {target!r}", field="target")
        info = rule_info(row)
        session.delete(row)
        return info
