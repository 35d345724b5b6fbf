"""What the scheduler asks of the kinds it runs.

Each kind (monitors, alarms, pipelines) lists its schedules; the scheduler cuts time
into windows ``[anchor + k * every, anchor + (k + 1) * every)``, claims every window
that has ended and not been claimed (one row per window, so a window runs once even
when several schedulers share the database), and hands each claimed window to the
kind's ``run``. The kinds are named here by import path, so the scheduler imports a
kind's package only when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from shipyard.platform import Platform


@dataclass(frozen=True)
class Schedule:
    """One resource's schedule: ``target`` names it within its ``kind``."""

    kind: str
    target: str
    every: timedelta
    anchor: datetime
    principal: str | None = None
    """Who the work runs as (the principal that created the schedule)."""


@dataclass(frozen=True)
class Due:
    """One window of a schedule, claimed by this scheduler and to be run now."""

    schedule: Schedule
    start: datetime
    end: datetime


class ScheduleSource(Protocol):
    """A kind of scheduled work: what is scheduled, and how one window runs."""

    kind: str

    def schedules(self, session: Session) -> list[Schedule]:
        """Every enabled schedule of this kind."""
        ...

    def run(self, platform: Platform, due: Due) -> None:
        """Do one window's work; raising marks the window failed (it is not run again)."""
        ...


SOURCES: dict[str, str] = {
    "monitor": "shipyard.monitoring._scheduled:SOURCE",
    "alarm": "shipyard.alarms._scheduled:SOURCE",
    "pipeline": "shipyard.pipelines._scheduled:SOURCE",
    "retention": "shipyard.retention._scheduled:SOURCE",
}
"""Each kind's ``ScheduleSource``, as ``module:attribute``."""
