"""A wall-time budget written as ``90s``, ``10m``, ``1h`` (or plain seconds)."""

from __future__ import annotations

import re

from shipyard.errors import InvalidInput

MIN_BUDGET_SECONDS = 10.0
MAX_BUDGET_SECONDS = 7 * 24 * 3600.0
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_FORM = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*")


def parse_budget(value: str | float | int) -> float:
    """Seconds of a budget; InvalidInput (field ``budget``) if malformed or out of range."""
    if isinstance(value, bool):
        raise InvalidInput("must be a duration such as 90s, 10m or 1h", field="budget")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _FORM.fullmatch(value)
        if match is None:
            raise InvalidInput(
                f"{value!r} is not a duration; write it as 90s, 10m or 1h", field="budget"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not MIN_BUDGET_SECONDS <= seconds <= MAX_BUDGET_SECONDS:
        raise InvalidInput(
            f"must be between {MIN_BUDGET_SECONDS:g} s and {MAX_BUDGET_SECONDS / 86400:g} days",
            field="budget",
        )
    return seconds
