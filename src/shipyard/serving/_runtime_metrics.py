"""The serving app's own state as Prometheus metrics: generation, weights, shadows, drops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from shipyard.serving._input_stats import input_metrics

if TYPE_CHECKING:
    from shipyard.serving._app import ServingApp


def runtime_metrics(app: ServingApp) -> Iterator[Metric]:
    """Read at each scrape of ``/metrics``: what the app holds now, and the input counts
    of the model versions it serves."""
    endpoint = app.endpoint_name
    config = app.config
    generation = GaugeMetricFamily(
        "shipyard_serving_generation", "Endpoint generation served.", labels=["endpoint"]
    )
    generation.add_metric([endpoint], config.generation)
    weights = GaugeMetricFamily(
        "shipyard_serving_variant_weight",
        "Traffic weight of each production variant.",
        labels=["endpoint", "variant"],
    )
    for name, weight in config.weights().items():
        weights.add_metric([endpoint, name], weight)
    shadow = CounterMetricFamily(
        "shipyard_serving_shadow",
        "Shadow copies answered, failed, and rows compared or agreeing with production.",
        labels=["endpoint", "variant", "count"],
    )
    for name, totals in list(app.shadows.totals.items()):
        for count, value in (
            ("requests", totals.requests),
            ("errors", totals.errors),
            ("compared_rows", totals.shadow_comparisons),
            ("agreeing_rows", totals.shadow_agreements),
        ):
            shadow.add_metric([endpoint, name, count], value)
    dropped = CounterMetricFamily(
        "shipyard_serving_dropped",
        "Work shed to protect live latency: shadow copies, capture records, 503 answers, "
        "audit events past the buffer (each batch of those is itself audited).",
        labels=["endpoint", "kind"],
    )
    dropped.add_metric([endpoint, "shadow"], app.shadows.dropped)
    dropped.add_metric([endpoint, "capture"], app.captures.dropped)
    dropped.add_metric([endpoint, "overload"], app.rejected)
    dropped.add_metric([endpoint, "audit"], app.audit.dropped)
    captured = CounterMetricFamily(
        "shipyard_serving_captured_records", "Records captured.", labels=["endpoint"]
    )
    captured.add_metric([endpoint], app.captures.recorded)
    batches = CounterMetricFamily(
        "shipyard_serving_batches",
        "Micro-batched model calls and the rows they carried.",
        labels=["endpoint", "variant", "count"],
    )
    for variant in config.variants:
        if variant.batcher is not None:
            batches.add_metric([endpoint, variant.name, "calls"], variant.batcher.batches)
            batches.add_metric([endpoint, variant.name, "rows"], variant.batcher.rows)
    online = CounterMetricFamily(
        "shipyard_serving_online_feature_rows",
        "Request rows enriched from the online store, and those whose entity it lacked.",
        labels=["endpoint", "count"],
    )
    online.add_metric([endpoint, "rows"], app.feature_rows)
    online.add_metric([endpoint, "absent"], app.absent_entities)
    slots = {id(variant.slot): variant.slot for variant in config.variants}
    yield from (generation, weights, shadow, dropped, captured, batches, online)
    yield input_metrics(
        endpoint, ((s.model_name, s.model_version, s.inputs) for s in slots.values())
    )
    if app.control is not None:
        failures = CounterMetricFamily(
            "shipyard_serving_reload_failures",
            "Generations that failed to load (the previous one kept serving).",
            labels=["endpoint"],
        )
        failures.add_metric([endpoint], app.control.reload_failures)
        yield failures
