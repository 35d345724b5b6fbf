"""Monitors as scheduled work: every enabled monitor's windows, each run as its creator.

An unattended window is authorized exactly as ``run_monitor`` is, for the principal that
created the monitor with its policies as they are now; a refusal is recorded as a
"refused" run saying why, and raised so the scheduler marks the window failed.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import AccessDenied, NotFound
from shipyard.monitoring._access import find_monitor
from shipyard.monitoring._plan import plan_of
from shipyard.monitoring._records import record_failure
from shipyard.monitoring._service import execute, run_monitor
from shipyard.platform import Platform
from shipyard.scheduling import Due, Schedule
from shipyard.security import OperationInfo, context_for
from shipyard.store.metadata import monitor_tables as mt


class MonitorSchedules:
    """The ``ScheduleSource`` of kind "monitor"."""

    kind = "monitor"

    def schedules(self, session: Session) -> list[Schedule]:
        rows = session.scalars(sa.select(mt.Monitor).where(mt.Monitor.enabled.is_(True)))
        return [
            Schedule(
                kind=self.kind,
                target=row.name,
                every=timedelta(seconds=row.every_seconds),
                anchor=row.anchor,
                principal=row.created_by,
            )
            for row in rows
        ]

    def run(self, platform: Platform, due: Due) -> None:
        name, principal = due.schedule.target, due.schedule.principal or ""
        info: OperationInfo = run_monitor.__shipyard_operation__  # type: ignore[attr-defined]
        try:
            ctx = context_for(platform, principal)
            info.authorize(ctx, {"name": name})
        except (AccessDenied, NotFound) as error:
            with platform.db.session() as session:
                plan = plan_of(find_monitor(session, name))
            message = (
                f"refused: {principal or 'no principal'} (who created the monitor) may no "
                f"longer run it: {error.message}"
            )
            record_failure(
                platform, plan, due.start, due.end, principal, "schedule", "refused", message
            )
            raise AccessDenied(message) from None
        execute(platform, principal, name, (due.start, due.end), "schedule")


SOURCE = MonitorSchedules()
