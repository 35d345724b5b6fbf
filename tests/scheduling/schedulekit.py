"""A ScheduleSource the scheduling tests register: it records each window it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from shipyard.platform import Platform
from shipyard.scheduling import Due, Schedule

HOUR = timedelta(hours=1)
NOW = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
"""The tests' clock: half way through a window of an hourly schedule anchored at noon - k h."""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeSource:
    """Hourly schedules ``t0..tN`` anchored ``ended`` hours before noon; records each run."""

    kind = "fake"

    def __init__(self, targets: int = 1, ended: int = 5) -> None:
        anchor = NOW.replace(minute=0) - ended * HOUR
        self.items = [Schedule("fake", f"t{i}", HOUR, anchor, "admin") for i in range(targets)]
        self.runs: list[tuple[str, datetime]] = []
        self.lock = threading.Lock()
        self.ran = threading.Condition(self.lock)
        self.before_run: Callable[[Due], None] | None = None

    def schedules(self, session: object) -> list[Schedule]:
        return list(self.items)

    def run(self, platform: Platform, due: Due) -> None:
        if self.before_run is not None:
            self.before_run(due)
        with self.ran:
            self.runs.append((due.schedule.target, due.start))
            self.ran.notify_all()

    def wait_runs(self, count: int, timeout: float = 30.0) -> None:
        with self.ran:
            assert self.ran.wait_for(lambda: len(self.runs) >= count, timeout), self.runs
