"""The one place Shipyard reads the wall clock, so tests and records agree on UTC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from shipyard.errors import InvalidInput


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def epoch_seconds() -> float:
    """Seconds since the Unix epoch."""
    return time.time()


_AGE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_AGE_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86_400.0, "w": 604_800.0}


def parse_since(value: str | datetime, *, field: str = "since") -> datetime:
    """The start of a period reaching back to now: ``"7d"``, ``"1h"``, ``"30m"``, ``"2w"``,
    ``"90s"``, or an ISO 8601 time (UTC when it names no zone)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    match = _AGE.match(value)
    if match is not None:
        seconds = float(match.group(1)) * _AGE_SECONDS[match.group(2).lower()]
        if seconds > 3650 * 86_400:
            raise InvalidInput("must reach back at most 10 years", field=field)
        return utcnow() - timedelta(seconds=seconds)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not an age (e.g. 90s, 30m, 1h, 7d, 2w) or an ISO 8601 time",
            field=field,
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
