"""Monitor schedules: ``1h``-style periods and the windows they cut time into."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from shipyard.errors import InvalidInput

_PERIOD = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MIN_SECONDS = 10
MAX_SECONDS = 31 * 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_schedule(text: str) -> int:
    """Seconds of ``"30s"``, ``"15m"``, ``"1h"`` or ``"1d"``; from 10 seconds (as an alarm's
    shortest period) to 31 days."""
    match = _PERIOD.match(text)
    if match is None:
        raise InvalidInput(f"{text!r} is not a period such as 30s, 15m, 1h or 1d", field="schedule")
    seconds = int(match.group(1)) * _UNIT[match.group(2).lower()]
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise InvalidInput("must be from 10 seconds to 31 days", field="schedule")
    return seconds


def anchor_for(seconds: int, now: datetime) -> datetime:
    """Windows start on multiples of the period since the Unix epoch (1h: on the hour);
    the anchor is the start of the window ``now`` is in."""
    periods = (now - EPOCH) // timedelta(seconds=seconds)
    return EPOCH + periods * timedelta(seconds=seconds)


def last_window(seconds: int, anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The last whole window that ended at or before ``now`` (or the one after ``anchor``)."""
    every = timedelta(seconds=seconds)
    end = anchor + max((now - anchor) // every, 1) * every
    return end - every, end


def check_window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime] | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidInput(
            "give both window_start and window_end, or neither",
            field="window_start" if start is None else "window_end",
        )
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise InvalidInput("must be after window_start", field="window_end")
    if end - start > timedelta(seconds=MAX_SECONDS):
        raise InvalidInput("a window is at most 31 days", field="window_end")
    return start, end


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
