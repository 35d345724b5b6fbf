"""Scheduled work: monitor windows, alarm evaluations and pipeline schedules, each window
run once, across restarts and across servers sharing one database."""

from shipyard.scheduling._base import SOURCES, Due, Schedule, ScheduleSource

__all__ = ["SOURCES", "Due", "Schedule", "ScheduleSource"]
