"""What a cost report says (wire types: pydantic only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shipyard.schemas._base import WireModel

Grouping = Literal["resource", "principal", "pipeline"]
GROUPINGS: tuple[Grouping, ...] = ("resource", "principal", "pipeline")


class Prices(WireModel):
    """The price table the report was priced with (from settings)."""

    cpu_hour: float
    gb_hour: float
    currency: str


class CostLine(WireModel):
    """One group's use and what it cost: CPU seconds, memory held (GB-hours), wall time."""

    key: str
    resources: int
    wall_seconds: float
    cpu_seconds: float
    gb_hours: float
    cpu_cost: float
    memory_cost: float
    cost: float


class CostReport(WireModel):
    """Cost from ``since`` to ``until``, grouped ``by``, most expensive first.

    Jobs count in the period they ended in (a running job with what it recorded so far),
    whole; endpoints by their workers' usage samples taken in the period. Only resources
    the asking principal may describe are counted.
    """

    by: Grouping
    since: datetime
    until: datetime
    prices: Prices
    lines: list[CostLine]
    total: float
    note: str = ""


class CandidateResult(WireModel):
    """One configuration under load: latency, throughput, what it held, what it would cost.

    ``cost_per_hour`` reserves one CPU per worker and the copy's resident memory;
    ``cost_per_million`` is that over the throughput measured."""

    workers: int
    max_batch_size: int
    """0: adaptive batching off."""
    max_wait_ms: float
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    throughput: float
    cpu_seconds: float
    memory_mb: float
    cost_per_hour: float
    cost_per_million: float | None
    meets_target: bool


class Recommendation(WireModel):
    """The cheapest configuration whose p99 met the target with no errors (None if none did),
    and every candidate measured."""

    endpoint: str
    target_p99_ms: float
    request_mix: str
    """Where the requests came from: the endpoint's capture or the training data."""
    requests_in_mix: int
    seconds_per_candidate: float
    concurrency: int
    currency: str
    candidates: list[CandidateResult]
    recommended: CandidateResult | None
