"""The one place Shipyard reads the wall clock, so tests and records agree on UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def epoch_seconds() -> float:
    """Seconds since the Unix epoch."""
    return time.time()
