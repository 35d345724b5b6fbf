"""Live metrics per variant, summed over serving workers from ``variant_stats`` windows."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.endpoints._statistics import histogram_quantile
from shipyard.schemas.endpoints import VariantMetrics
from shipyard.store.metadata import endpoint_tables as et

WINDOW_SECONDS = 10.0


class _Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.latency_sum_ms = 0.0
        self.buckets: dict[float, int] = {}
        self.agreements = 0
        self.comparisons = 0

    def add(self, row: et.VariantStats) -> None:
        self.requests += row.requests
        self.errors += row.errors
        self.latency_sum_ms += row.latency_sum_ms
        self.agreements += row.shadow_agreements
        self.comparisons += row.shadow_comparisons
        for upper, count in _buckets(row.latency_buckets):
            self.buckets[upper] = self.buckets.get(upper, 0) + count

    def metrics(self, variant: str) -> VariantMetrics:
        pairs = list(self.buckets.items())
        has = self.requests > 0
        return VariantMetrics(
            variant=variant,
            requests=self.requests,
            errors=self.errors,
            error_rate=self.errors / self.requests if has else None,
            mean_latency_ms=self.latency_sum_ms / self.requests if has else None,
            p50_latency_ms=histogram_quantile(pairs, 0.50),
            p95_latency_ms=histogram_quantile(pairs, 0.95),
            p99_latency_ms=histogram_quantile(pairs, 0.99),
            shadow_comparisons=self.comparisons,
            shadow_agreement=self.agreements / self.comparisons if self.comparisons else None,
        )


def _buckets(document: dict[str, Any]) -> list[tuple[float, int]]:
    """``{"bounds", "counts"}`` as (upper bound, count) pairs; an extra last count is +inf."""
    bounds = [float(b) for b in document.get("bounds", [])]
    counts = [int(c) for c in document.get("counts", [])]
    if len(counts) == len(bounds) + 1:
        bounds.append(math.inf)
    return list(zip(bounds, counts, strict=False))


def variant_metrics(
    session: Session,
    endpoint: str,
    *,
    since: float | None = None,
    until: float | None = None,
    variants: Collection[str] | None = None,
) -> dict[str, VariantMetrics]:
    """Metrics per variant from the windows that overlap ``[since, until]`` (epoch seconds)."""
    stats = et.VariantStats
    query = sa.select(stats).where(stats.endpoint == endpoint)
    if since is not None:
        query = query.where(stats.window_start > since - WINDOW_SECONDS)
    if until is not None:
        query = query.where(stats.window_start <= until)
    if variants is not None:
        query = query.where(stats.variant.in_(list(variants)))
    tallies: dict[str, _Tally] = {}
    for row in session.scalars(query):
        tallies.setdefault(row.variant, _Tally()).add(row)
    names = set(tallies) | set(variants or ())
    return {name: tallies.get(name, _Tally()).metrics(name) for name in sorted(names)}


def endpoint_metrics(
    session: Session, endpoint: str, *, start: float, end: float
) -> VariantMetrics:
    """Every variant's traffic together (latency from the merged histograms), over the stats
    windows that start in ``[start, end)`` (epoch seconds); ``variant`` is ``*``."""
    stats = et.VariantStats
    query = sa.select(stats).where(
        stats.endpoint == endpoint, stats.window_start >= start, stats.window_start < end
    )
    tally = _Tally()
    for row in session.scalars(query):
        tally.add(row)
    return tally.metrics("*")
