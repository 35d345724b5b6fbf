"""Judging a rollout step's alarm with the rules every alarm follows (``shipyard.alarms``).

A datapoint is the new variant's traffic over one period: with one evaluation period
(the default) it is everything the step has served so far; with N it is each of the
last N periods of ``alarm_period`` seconds, the newest ending with the current 10 s
stats window (periods before the step began are missing).
A datapoint with fewer than ``min_requests`` requests (default 50) cannot judge error
rates or latencies and is missing; ``requests`` conditions are judged on any count.
The step rolls back when M (``alarm_datapoints``, default N) datapoints trip.
Missing datapoints count as ``alarm_missing`` says: ``not_breaching`` (default: a step
too quiet to judge is promoted when its bake ends, as before) or ``breaching`` (it is
rolled back instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shipyard.alarms._rules import TreatMissing, classify
from shipyard.deploy._alarms import Condition, parse_alarm
from shipyard.endpoints import WINDOW_SECONDS, VariantMetrics, variant_metrics
from shipyard.errors import InvalidInput
from shipyard.store.metadata import endpoint_tables as et

MIN_REQUESTS = 50
ALARM_PERIOD_SECONDS = 10.0
_GATED = ("error_rate", "p50_latency", "p95_latency", "p99_latency")


@dataclass(frozen=True)
class AlarmRule:
    """How a rollout's alarm expression is evaluated."""

    min_requests: int = MIN_REQUESTS
    periods: int = 1
    datapoints: int = 1
    period_seconds: float = ALARM_PERIOD_SECONDS
    missing: TreatMissing = "not_breaching"

    def spec(self) -> dict[str, Any]:
        return {
            "min_requests": self.min_requests,
            "alarm_periods": self.periods,
            "alarm_datapoints": self.datapoints,
            "alarm_period_seconds": self.period_seconds,
            "alarm_missing": self.missing,
        }

    @classmethod
    def of(cls, spec: dict[str, Any]) -> AlarmRule:
        """From a deployment's spec (rollouts started before these existed: the defaults)."""
        periods = int(spec.get("alarm_periods", 1))
        return cls(
            min_requests=int(spec.get("min_requests", MIN_REQUESTS)),
            periods=periods,
            datapoints=int(spec.get("alarm_datapoints", periods)),
            period_seconds=float(spec.get("alarm_period_seconds", ALARM_PERIOD_SECONDS)),
            missing=spec.get("alarm_missing", "not_breaching"),
        )


def check_rule(
    min_requests: int, periods: int, datapoints: int | None, period: float, missing: str
) -> AlarmRule:
    """A checked rule; errors name the option."""
    if not 1 <= min_requests <= 10**9:
        raise InvalidInput("must be from 1 to 1e9", field="min_requests")
    if not 1 <= periods <= 100:
        raise InvalidInput("must be from 1 to 100", field="alarm_periods")
    m = periods if datapoints is None else datapoints
    if not 1 <= m <= periods:
        raise InvalidInput(f"must be from 1 to alarm_periods ({periods})", field="alarm_datapoints")
    if period < ALARM_PERIOD_SECONDS:
        raise InvalidInput(
            f"must be at least {ALARM_PERIOD_SECONDS:g} s (the stats window)",
            field="alarm_period",
        )
    if missing not in ("not_breaching", "breaching"):
        raise InvalidInput("must be not_breaching or breaching", field="alarm_missing")
    return AlarmRule(min_requests, periods, m, period, missing)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Judgement:
    """Whether the alarm fires, why (``error_rate 5% > 1%``), and a note for the history."""

    fired: bool
    reason: str = ""
    note: str = ""


def _gate(metrics: VariantMetrics, rule: AlarmRule) -> dict[str, float | None]:
    """The alarm's values; rates and latencies are unknown under ``min_requests``."""
    values = metrics.alarm_values()
    if metrics.requests < rule.min_requests:
        values.update(dict.fromkeys(_GATED))
    return values


def judge(
    session: Session, row: et.Deployment, metrics: VariantMetrics, now: float, baked: bool
) -> Judgement:
    """Evaluate the step's alarm on its datapoints (``metrics`` is the whole step's)."""
    alarm = parse_alarm(row.spec["rollback_on"])
    rule = AlarmRule.of(row.spec)
    if alarm.root is None:
        return Judgement(False)
    gated = any(c.metric in _GATED for c in _conditions(alarm.root))
    if rule.periods == 1:
        points = [metrics]
    else:
        points = [_period(session, row, rule, i, now) for i in reversed(range(rule.periods))]
    breaches: list[bool | None] = []
    last = ""
    for point in points:
        values = _gate(point, rule)
        fired = alarm.tripped(values, final=baked)
        if fired:
            breaches.append(True)
            last = "; ".join(c.describe(values) for c in fired)
        elif gated and point.requests < rule.min_requests:
            breaches.append(None)
        else:
            breaches.append(False)
    state, breaching, _ = classify(breaches, rule.datapoints, rule.missing, "OK")
    quiet = gated and any(b is None for b in breaches)
    note = f"fewer than {rule.min_requests} requests: the alarm could not judge" if quiet else ""
    if state != "ALARM":
        return Judgement(False, note=note)
    if not last:  # missing datapoints, counted as breaching
        last = f"requests {metrics.requests} < min_requests {rule.min_requests}"
    if rule.periods > 1:
        last += f" in {breaching} of the last {rule.periods} datapoints"
    return Judgement(True, last, note)


def _period(
    session: Session, row: et.Deployment, rule: AlarmRule, back: int, now: float
) -> VariantMetrics:
    """The stats windows starting in the period ``back`` periods before the one that ends
    with the current window, from the window the step began in."""
    top = (now // WINDOW_SECONDS + 1) * WINDOW_SECONDS
    end = top - back * rule.period_seconds
    start = end - rule.period_seconds
    if end <= row.step_started_at - WINDOW_SECONDS:
        return VariantMetrics(variant=row.to_variant)
    since = max(start + WINDOW_SECONDS - 1e-6, row.step_started_at)
    found = variant_metrics(
        session, row.endpoint, since=since, until=end - 1e-6, variants=[row.to_variant]
    )
    return found[row.to_variant]


def _conditions(node: Any) -> list[Condition]:
    if isinstance(node, Condition):
        return [node]
    return [c for part in node.parts for c in _conditions(part)]
