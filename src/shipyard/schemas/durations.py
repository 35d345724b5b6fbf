"""Durations as people write them (``90``, ``"60s"``, ``"500ms"``, ``"2m"``, ``"1h"``): one
parser for rollouts, alarms, pipelines and the CLI, on either side of the wire."""

from __future__ import annotations

import math
import re

from shipyard.errors import InvalidInput

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
MAX_SECONDS = 7 * 86_400.0


def parse_duration(value: str | float, *, field: str) -> float:
    """Seconds from ``90``, ``"60s"``, ``"500ms"``, ``"2m"`` or ``"1h"``."""
    if isinstance(value, bool):
        raise InvalidInput(f"{value!r} is not a duration", field=field)
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if match is None:
            raise InvalidInput(
                f"{value!r} is not a duration (e.g. 60s, 500ms, 2m, 1h)", field=field
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise InvalidInput(f"must be from 0 s to 7 days, got {value!r}", field=field)
    return seconds
