"""Where an alarm's datapoints come from: a monitor's metrics or an endpoint's live traffic.

``monitor:<name>`` reads ``shipyard.monitoring.metric_points`` (one point per monitor
window; the points whose window ends in a period make its datapoint, their values
averaged by samples). ``endpoint:<name>`` reads the serving workers' 10-second stats
windows: ``requests``, ``errors``, ``error_rate`` (a fraction), ``mean_latency``,
``p50_latency``, ``p95_latency``, ``p99_latency`` (ms), each optionally ``@<variant>``;
a datapoint's samples are its requests.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from shipyard.alarms._rules import Datapoint
from shipyard.errors import InvalidInput

Period = tuple[datetime, datetime]
ENDPOINT_METRICS = (
    "requests",
    "errors",
    "error_rate",
    "mean_latency",
    "p50_latency",
    "p95_latency",
    "p99_latency",
)
_MONITOR_METRIC = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,150}(@[A-Za-z0-9][A-Za-z0-9_\-]{0,49})?$")


class MetricSource(Protocol):
    """Reads one metric of one resource as a datapoint per period."""

    def check(self, metric: str) -> str:
        """The metric name, checked (InvalidInput naming ``metric`` otherwise)."""
        ...

    def datapoints(
        self, session: Session, name: str, metric: str, periods: Sequence[Period]
    ) -> list[Datapoint]:
        """One datapoint per period (value None when the period has no data)."""
        ...


class MonitorMetrics:
    """A monitor's metrics, read through ``shipyard.monitoring.metric_points``."""

    def check(self, metric: str) -> str:
        if not _MONITOR_METRIC.match(metric):
            raise InvalidInput(
                "is not a monitor metric (e.g. drift_share, drift.<feature>, "
                "quality.accuracy@<variant>)",
                field="metric",
            )
        return metric

    def datapoints(
        self, session: Session, name: str, metric: str, periods: Sequence[Period]
    ) -> list[Datapoint]:
        monitoring = importlib.import_module("shipyard.monitoring")  # imported on use
        points: list[Any] = monitoring.metric_points(session, name, metric, periods[0][0])
        found = []
        for start, end in periods:
            inside = [p for p in points if start < p.time <= end]
            samples = sum(int(p.samples) for p in inside)
            if not inside:
                found.append(Datapoint(end, None, 0))
            elif samples > 0:
                value = sum(float(p.value) * int(p.samples) for p in inside) / samples
                found.append(Datapoint(end, value, samples))
            else:
                found.append(Datapoint(end, sum(float(p.value) for p in inside) / len(inside), 0))
        return found


class EndpointMetrics:
    """An endpoint's live traffic, all variants together or one (``metric@variant``)."""

    def check(self, metric: str) -> str:
        base, _, variant = metric.partition("@")
        if base not in ENDPOINT_METRICS:
            raise InvalidInput(
                f"is not an endpoint metric; one of {', '.join(ENDPOINT_METRICS)}, "
                "optionally @<variant>",
                field="metric",
            )
        if "@" in metric and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,49}$", variant):
            raise InvalidInput(f"{variant!r} is not a variant name", field="metric")
        return metric

    def datapoints(
        self, session: Session, name: str, metric: str, periods: Sequence[Period]
    ) -> list[Datapoint]:
        from shipyard.endpoints import WINDOW_SECONDS, endpoint_metrics, variant_metrics

        base, _, variant = metric.partition("@")
        found = []
        for start, end in periods:
            since, until = start.timestamp(), end.timestamp()
            if variant:
                tally = variant_metrics(
                    session,
                    name,
                    since=since + WINDOW_SECONDS - 1e-6,
                    until=until - 1e-6,
                    variants=[variant],
                )[variant]
            else:
                tally = endpoint_metrics(session, name, start=since, end=until)
            value = _value(base, tally)
            found.append(Datapoint(end, value, tally.requests))
        return found


def _value(metric: str, tally: Any) -> float | None:
    if metric == "requests":
        return float(tally.requests)
    if metric == "errors":
        return float(tally.errors)
    if metric == "error_rate":
        return None if tally.error_rate is None else float(tally.error_rate)
    value = getattr(tally, f"{metric}_ms")
    return None if value is None else float(value)


SOURCES: dict[str, MetricSource] = {"monitor": MonitorMetrics(), "endpoint": EndpointMetrics()}


def parse_source(text: str) -> tuple[str, str]:
    """``monitor:<name>`` or ``endpoint:<name>`` -> (kind, name)."""
    kind, sep, name = text.partition(":")
    if not sep or kind not in SOURCES or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$", name):
        raise InvalidInput(
            "must be monitor:<name> or endpoint:<name>, e.g. endpoint:churn", field="source"
        )
    return kind, name
