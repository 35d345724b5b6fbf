"""A rollout's plan: the traffic steps of each strategy, and the weights of a step."""

from __future__ import annotations

import math
from typing import Literal

from shipyard.errors import InvalidInput

Strategy = Literal["canary", "linear", "all-at-once"]
STRATEGIES: tuple[Strategy, ...] = ("canary", "linear", "all-at-once")


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
