"""The evaluation rules every alarm follows (metric alarms and rollout alarms alike).

As CloudWatch: an alarm looks at its last ``evaluation_periods`` (N) datapoints and goes
to ALARM when at least ``datapoints_to_alarm`` (M) of them breach. A datapoint with fewer
than ``min_samples`` samples behind it is missing, as is a period with no data at all.
Missing datapoints are treated as the alarm says:

- ``missing`` (default): they do not count; when every datapoint is missing the alarm
  goes to INSUFFICIENT_DATA.
- ``ignore``: they do not count; when every datapoint is missing the state stays as it was.
- ``breaching``: each counts as breaching.
- ``not_breaching``: each counts as within the threshold.

Otherwise the alarm is OK.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shipyard.schemas.alarms import State

TreatMissing = Literal["missing", "ignore", "breaching", "not_breaching"]
Comparison = Literal[">", ">=", "<", "<="]
STATES: tuple[State, ...] = ("OK", "ALARM", "INSUFFICIENT_DATA")
TREAT_MISSING: tuple[TreatMissing, ...] = ("missing", "ignore", "breaching", "not_breaching")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_WORDS = {
    ">": "greater than",
    ">=": "greater than or equal to",
    "<": "less than",
    "<=": "less than or equal to",
}


@dataclass(frozen=True)
class Datapoint:
    """A metric's value over one period and how many samples it rests on."""

    end: datetime
    value: float | None
    samples: int


@dataclass(frozen=True)
class Verdict:
    """The state the datapoints call for, and why, in CloudWatch's words."""

    state: State
    reason: str
    breaching: int
    present: int


def classify(
    breaches: Sequence[bool | None],
    datapoints_to_alarm: int,
    treat_missing: TreatMissing,
    current: State,
) -> tuple[State, int, int]:
    """(state, breaching, counted) from per-datapoint breaches (None: missing)."""
    if treat_missing == "breaching":
        breaches = [True if b is None else b for b in breaches]
    elif treat_missing == "not_breaching":
        breaches = [False if b is None else b for b in breaches]
    counted = [b for b in breaches if b is not None]
    breaching = sum(counted)
    if not counted:
        return (current if treat_missing == "ignore" else "INSUFFICIENT_DATA"), 0, 0
    return ("ALARM" if breaching >= datapoints_to_alarm else "OK"), breaching, len(counted)


@dataclass(frozen=True)
class Rule:
    """A threshold with CloudWatch's M-of-N evaluation and a minimum sample size."""

    comparison: Comparison
    threshold: float
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    min_samples: int = 1
    treat_missing: TreatMissing = "missing"

    def breaches(self, point: Datapoint) -> bool | None:
        if point.value is None or point.samples < self.min_samples:
            return None
        return COMPARISONS[self.comparison](point.value, self.threshold)

    def evaluate(self, datapoints: Sequence[Datapoint], current: State) -> Verdict:
        """Judge the last N datapoints (oldest first; fewer means the rest are missing)."""
        recent = list(datapoints)[-self.evaluation_periods :]
        breaches = [self.breaches(p) for p in recent]
        breaches += [None] * (self.evaluation_periods - len(recent))
        state, breaching, counted = classify(
            breaches, self.datapoints_to_alarm, self.treat_missing, current
        )
        return Verdict(state, self._reason(state, recent, breaching), breaching, counted)

    def _reason(self, state: State, recent: list[Datapoint], breaching: int) -> str:
        n = self.evaluation_periods
        shown = [
            f"{p.value:.6g} ({p.end:%d/%m/%y %H:%M:%S}, {p.samples} samples)"
            for p in recent
            if p.value is not None and p.samples >= self.min_samples
        ]
        words = _WORDS[self.comparison]
        if state == "INSUFFICIENT_DATA":
            return (
                f"Insufficient Data: no datapoint in the last {n} with at least "
                f"{self.min_samples} samples (treat missing data as {self.treat_missing})."
            )
        if not shown and state != "ALARM":
            return f"No datapoint with enough samples in the last {n}; state kept ({state})."
        listed = ", ".join(shown) or "none with enough samples"
        if state == "ALARM":
            return (
                f"Threshold Crossed: {breaching} out of the last {n} datapoints [{listed}] "
                f"were {words} the threshold ({self.threshold:g}) (minimum "
                f"{self.datapoints_to_alarm} datapoints for OK -> ALARM transition)."
            )
        return (
            f"Threshold Crossed: {breaching} out of the last {n} datapoints [{listed}] "
            f"were {words} the threshold ({self.threshold:g}) (fewer than the minimum "
            f"{self.datapoints_to_alarm} datapoints for ALARM)."
        )
