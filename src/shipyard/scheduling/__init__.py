"""Scheduled work: monitor windows, alarm evaluations and pipeline schedules, each window
run once, across restarts and across servers sharing one database."""

from shipyard.scheduling._base import SOURCES, Due, Schedule, ScheduleSource
from shipyard.scheduling._claims import MAX_ATTEMPTS
from shipyard.scheduling._scheduler import LEASE_SECONDS, POLL_SECONDS, Scheduler, load_source

__all__ = [
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "POLL_SECONDS",
    "SOURCES",
    "Due",
    "Schedule",
    "ScheduleSource",
    "Scheduler",
    "load_source",
]
