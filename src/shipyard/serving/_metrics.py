"""Prometheus metrics of one serving app, in a registry of its own.

Recording is plain arithmetic on the event-loop thread (no locks, no label
lookups); a collector turns the tallies into metric families when scraped.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from shipyard.serving._stats import LATENCY_BUCKETS, VariantTotals

_LABELS = ["endpoint", "model", "version", "route"]
_VARIANT_LABELS = ["endpoint", "variant", "model", "version"]


class _RouteTally:
    """Counts for one (variant, model, version, route): status classes and latency histogram."""

    __slots__ = ("buckets", "codes", "total_seconds")

    def __init__(self) -> None:
        self.codes = [0] * 6
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total_seconds = 0.0


class ServingMetrics:
    """Request counts, errors, latency and predicted rows per variant, model version and route.

    Call the recording methods from the event-loop thread only. The families
    without a ``variant`` label sum over variants; ``shipyard_serving_variant_*``
    break the same counts down by variant. ``variant`` is "" for requests that
    never reached one (unknown paths, failed authentication).
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._routes: dict[tuple[str, str, str, str], _RouteTally] = {}
        self._errors: dict[tuple[str, str, str, str, str], int] = {}
        self._rows: dict[tuple[str, str], int] = {}
        self._extra: list[Callable[[], Iterable[Metric]]] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def observe(
        self, variant: str, model: str, version: str, route: str, status: int, seconds: float
    ) -> None:
        """Count one answered request and its latency."""
        key = (variant, model, version, route)
        tally = self._routes.get(key)
        if tally is None:
            tally = self._routes[key] = _RouteTally()
        tally.codes[min(status // 100, 5)] += 1
        tally.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        tally.total_seconds += seconds

    def error(self, variant: str, model: str, version: str, route: str, code: str) -> None:
        """Count one failed request by its error code."""
        key = (variant, model, version, route, code)
        self._errors[key] = self._errors.get(key, 0) + 1

    def rows(self, model: str, version: str, count: int) -> None:
        """Count rows sent to a model version."""
        key = (model, version)
        self._rows[key] = self._rows.get(key, 0) + count

    def add_collector(self, collect: Callable[[], Iterable[Metric]]) -> None:
        """Expose more metric families (shadow, capture, reload) in the same registry."""
        self._extra.append(collect)

    def variant_totals(self, routes: Collection[str]) -> dict[str, VariantTotals]:
        """Cumulative counts per variant over ``routes``; 5xx answers count as errors.

        Safe to call from another thread: it copies before reading.
        """
        totals: dict[str, VariantTotals] = {}
        for (variant, _, _, route), tally in list(self._routes.items()):
            if not variant or route not in routes:
                continue
            codes, buckets = list(tally.codes), list(tally.buckets)
            total = totals.setdefault(variant, VariantTotals())
            total.requests += sum(codes)
            total.errors += codes[5]
            total.latency_sum_ms += tally.total_seconds * 1000
            total.buckets = [a + b for a, b in zip(total.buckets, buckets, strict=True)]
        return totals

    def collect(self) -> Iterator[Metric]:
        """Metric families for prometheus_client's registry."""
        bounds = [repr(b) for b in LATENCY_BUCKETS] + ["+Inf"]
        by_route: dict[tuple[str, str, str], _RouteTally] = {}
        by_variant: dict[tuple[str, str, str], _RouteTally] = {}
        for (variant, model, version, route), tally in list(self._routes.items()):
            _merge(by_route.setdefault((model, version, route), _RouteTally()), tally)
            if variant:
                _merge(by_variant.setdefault((variant, model, version), _RouteTally()), tally)
        yield from _families("shipyard_serving", [*_LABELS], self.endpoint, by_route, bounds)
        yield from _families(
            "shipyard_serving_variant", _VARIANT_LABELS, self.endpoint, by_variant, bounds
        )
        errors = CounterMetricFamily(
            "shipyard_serving_errors",
            "Requests that failed, by error code.",
            labels=[*_LABELS, "error"],
        )
        variant_errors = CounterMetricFamily(
            "shipyard_serving_variant_errors",
            "Requests that failed, by variant and error code.",
            labels=[*_VARIANT_LABELS, "error"],
        )
        summed: dict[tuple[str, str, str, str], int] = {}
        for (variant, model, version, route, code), count in list(self._errors.items()):
            key = (model, version, route, code)
            summed[key] = summed.get(key, 0) + count
            if variant:
                variant_errors.add_metric([self.endpoint, variant, model, version, code], count)
        for (model, version, route, code), count in summed.items():
            errors.add_metric([self.endpoint, model, version, route, code], count)
        rows = CounterMetricFamily(
            "shipyard_serving_predicted_rows",
            "Rows predicted.",
            labels=["endpoint", "model", "version"],
        )
        for (model, version), count in list(self._rows.items()):
            rows.add_metric([self.endpoint, model, version], count)
        yield from (errors, variant_errors, rows)
        for extra in self._extra:
            yield from extra()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _merge(into: _RouteTally, tally: _RouteTally) -> None:
    into.codes = [a + b for a, b in zip(into.codes, tally.codes, strict=True)]
    into.buckets = [a + b for a, b in zip(into.buckets, tally.buckets, strict=True)]
    into.total_seconds += tally.total_seconds


def _families(
    prefix: str,
    labels: list[str],
    endpoint: str,
    tallies: dict[tuple[str, str, str], _RouteTally],
    bounds: list[str],
) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        f"{prefix}_requests", "Requests answered, by status code class.", labels=[*labels, "code"]
    )
    latency = HistogramMetricFamily(
        f"{prefix}_request_duration_seconds",
        "Time from the app receiving a request to handing its response to the server.",
        labels=labels,
    )
    for key, tally in tallies.items():
        values = [endpoint, *key]
        for code_class, count in enumerate(tally.codes):
            if count:
                requests.add_metric([*values, f"{code_class}xx"], count)
        cumulative, buckets = 0, []
        for bound, count in zip(bounds, tally.buckets, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        latency.add_metric(values, buckets, tally.total_seconds)
    yield from (requests, latency)
