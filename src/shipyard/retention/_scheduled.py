"""Retention rules as scheduled work: each rule applied every ``every_seconds``, as the
principal that set it (with its policies as they are now; a refusal fails the window)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict
from shipyard.platform import Platform
from shipyard.retention._apply import apply_rule
from shipyard.retention._rules import rule_info
from shipyard.scheduling import Due, Schedule
from shipyard.security import context_for
from shipyard.store.metadata import erasure_tables


class RetentionSchedules:
    """The ``ScheduleSource`` of kind "retention"; a target is ``<kind>:<name>``."""

    kind = "retention"

    def schedules(self, session: Session) -> list[Schedule]:
        rows = session.scalars(sa.select(erasure_tables.RetentionRule))
        return [
            Schedule(
                kind=self.kind,
                target=f"{row.kind}:{row.target}",
                every=timedelta(seconds=row.every_seconds),
                anchor=row.anchor,
                principal=row.created_by,
            )
            for row in rows
        ]

    def run(self, platform: Platform, due: Due) -> None:
        kind, _, target = due.schedule.target.partition(":")
        rules = erasure_tables.RetentionRule
        with platform.db.session() as session:
            row = session.scalar(sa.select(rules).where(rules.kind == kind, rules.target == target))
            if row is None:
                return
            rule = rule_info(row)
        ctx = context_for(platform, due.schedule.principal or rule.created_by)
        outcome = apply_rule(ctx, rule, dry_run=False)
        if outcome.skipped:
            raise Conflict("; ".join(outcome.skipped))


SOURCE = RetentionSchedules()
