"""A rollout's plan: durations, the traffic steps of each strategy, and the weights of a step."""

from __future__ import annotations

import math
import re
from typing import Literal

from shipyard.errors import InvalidInput

Strategy = Literal["canary", "linear", "all-at-once"]
STRATEGIES: tuple[Strategy, ...] = ("canary", "linear", "all-at-once")
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


def traffic_steps(strategy: str, canary_percent: float, step_percent: float) -> list[float]:
    """The new variant's share of production traffic at each step, ending at 100."""
    if strategy == "all-at-once":
        return [100.0]
    if strategy == "canary":
        if not (math.isfinite(canary_percent) and 0 < canary_percent < 100):
            raise InvalidInput(
                f"must be more than 0 and less than 100, got {canary_percent!r}",
                field="canary_percent",
            )
        return [float(canary_percent), 100.0]
    if strategy == "linear":
        if not (math.isfinite(step_percent) and 0 < step_percent <= 100):
            raise InvalidInput(
                f"must be more than 0 and at most 100, got {step_percent!r}", field="step_percent"
            )
        count = math.ceil(100 / step_percent - 1e-9)
        return [round(min(100.0, step_percent * (i + 1)), 6) for i in range(count)]
    raise InvalidInput(
        f"must be one of {', '.join(STRATEGIES)}, got {strategy!r}", field="strategy"
    )


def step_weights(old: dict[str, float], new_variant: str, percent: float) -> dict[str, float]:
    """Weights in percent: ``percent`` for the new variant, the rest split as the old weights."""
    total = sum(old.values())
    rest = 100.0 - percent
    weights = {
        name: (rest * weight / total if total else rest / len(old)) for name, weight in old.items()
    }
    weights[new_variant] = percent
    return {name: round(weight, 6) for name, weight in weights.items()}
