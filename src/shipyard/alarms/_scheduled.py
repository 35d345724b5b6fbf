"""Alarms as scheduled work: each enabled alarm is evaluated at the end of every period.

An alarm's windows are its periods shifted by ``SETTLE_SECONDS`` (its anchor is a period
boundary plus that), and each run judges the periods ending ``SETTLE_SECONDS`` before the
window does: serving workers report their 10-second stats windows a little after the
fact, and a period is judged once they have.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.alarms._evaluate import SETTLE_SECONDS, evaluate
from shipyard.platform import Platform
from shipyard.scheduling import Due, Schedule
from shipyard.store.metadata import alarm_tables as at


class AlarmSchedules:
    """``ScheduleSource`` of kind ``alarm``: the window is the alarm's period."""

    kind = "alarm"

    def schedules(self, session: Session) -> list[Schedule]:
        rows = session.execute(
            sa.select(
                at.Alarm.name, at.Alarm.period_seconds, at.Alarm.anchor, at.Alarm.created_by
            ).where(at.Alarm.enabled.is_(True))
        )
        return [
            Schedule("alarm", name, timedelta(seconds=period), anchor, creator)
            for name, period, anchor, creator in rows
        ]

    def run(self, platform: Platform, due: Due) -> None:
        evaluate(platform, due.schedule.target, due.end - timedelta(seconds=SETTLE_SECONDS))


SOURCE = AlarmSchedules()
