"""Prometheus metrics of one serving app, in a registry of its own.

Recording is plain arithmetic on the event-loop thread (no locks, no label
lookups); a collector turns the tallies into metric families when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)

LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_LABELS = ["endpoint", "model", "version", "route"]


class _RouteTally:
    """Counts for one (model, version, route): status classes and a latency histogram."""

    __slots__ = ("buckets", "codes", "total_seconds")

    def __init__(self) -> None:
        self.codes = [0] * 6
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total_seconds = 0.0


class ServingMetrics:
    """Request counts, errors, latency and predicted rows, labelled per model version and route.

    Call the recording methods from the event-loop thread only.
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._routes: dict[tuple[str, str, str], _RouteTally] = {}
        self._errors: dict[tuple[str, str, str, str], int] = {}
        self._rows: dict[tuple[str, str], int] = {}
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def observe(self, model: str, version: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        tally = self._routes.get((model, version, route))
        if tally is None:
            tally = self._routes[model, version, route] = _RouteTally()
        tally.codes[min(status // 100, 5)] += 1
        tally.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        tally.total_seconds += seconds

    def error(self, model: str, version: str, route: str, code: str) -> None:
        """Count one failed request by its error code."""
        key = (model, version, route, code)
        self._errors[key] = self._errors.get(key, 0) + 1

    def rows(self, model: str, version: str, count: int) -> None:
        """Count rows sent to a model version."""
        key = (model, version)
        self._rows[key] = self._rows.get(key, 0) + count

    def collect(self) -> Iterator[Metric]:
        """Metric families for prometheus_client's registry."""
        requests = CounterMetricFamily(
            "shipyard_serving_requests",
            "Requests answered, by status code class.",
            labels=[*_LABELS, "code"],
        )
        latency = HistogramMetricFamily(
            "shipyard_serving_request_duration_seconds",
            "Time from the app receiving a request to handing its response to the server.",
            labels=_LABELS,
        )
        bounds = [repr(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        for (model, version, route), tally in list(self._routes.items()):
            labels = [self.endpoint, model, version, route]
            for code_class, count in enumerate(tally.codes):
                if count:
                    requests.add_metric([*labels, f"{code_class}xx"], count)
            cumulative, buckets = 0, []
            for bound, count in zip(bounds, tally.buckets, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            latency.add_metric(labels, buckets, tally.total_seconds)
        errors = CounterMetricFamily(
            "shipyard_serving_errors",
            "Requests that failed, by error code.",
            labels=[*_LABELS, "error"],
        )
        for (model, version, route, code), count in list(self._errors.items()):
            errors.add_metric([self.endpoint, model, version, route, code], count)
        rows = CounterMetricFamily(
            "shipyard_serving_predicted_rows",
            "Rows predicted.",
            labels=["endpoint", "model", "version"],
        )
        for (model, version), count in list(self._rows.items()):
            rows.add_metric([self.endpoint, model, version], count)
        yield from (requests, errors, latency, rows)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
