"""Alarms as scheduled work: each enabled alarm is evaluated at the end of every period."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.alarms._evaluate import evaluate
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
        evaluate(platform, due.schedule.target, due.end)


SOURCE = AlarmSchedules()
