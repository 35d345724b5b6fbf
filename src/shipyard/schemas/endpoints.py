"""What the endpoint service takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict

from shipyard.schemas._base import WireModel

Runtime = Literal["native", "onnx"]
Role = Literal["production", "shadow"]
CaptureMode = Literal["input", "output", "both"]


class VariantSpec(WireModel):
    """A production variant to put on an endpoint: a model reference and its traffic weight."""

    model_config = ConfigDict(extra="forbid")

    name: str
    model: str
    weight: float = 1.0
    runtime: Runtime = "native"


class ShadowSpec(WireModel):
    """A shadow variant: receives ``percent`` % copies of live requests, never answers them."""

    model_config = ConfigDict(extra="forbid")

    name: str = "shadow"
    model: str
    percent: float = 100.0
    runtime: Runtime = "native"


class CaptureConfig(WireModel):
    """Data capture: which share of requests is recorded, and which side of them."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    sampling_percent: float = 100.0
    mode: CaptureMode = "both"


class BatchingConfig(WireModel):
    """Adaptive micro-batching bounds."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_batch_size: int = 32
    max_wait_ms: float = 2.0


class VariantInfo(WireModel):
    """One variant as served: its model version, weight and share of production traffic."""

    name: str
    model: str
    model_version: int
    approval: str
    role: Role
    weight: float
    traffic_percent: float
    shadow_percent: float
    runtime: Runtime
    created_at: datetime

    @property
    def model_ref(self) -> str:
        return f"{self.model}@{self.model_version}"


class InstanceInfo(WireModel):
    """A serving worker's last heartbeat."""

    worker: str
    generation: int
    variants: list[str]
    live: bool
    seconds_since_heartbeat: float
    failed_generation: int | None
    error: str
    url: str


class EndpointInfo(WireModel):
    """A real-time endpoint: its variants and weights, live settings and generation.

    ``model``/``model_version`` name the production variant with the most traffic.
    """

    name: str
    model_ref: str
    model: str
    model_version: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    generation: int = 1
    production: bool = False
    variants: list[VariantInfo] = []
    capture: dict[str, Any] = {}
    batching: dict[str, Any] = {}
    bandit: dict[str, Any] = {}
    deployment: str | None = None
    instances: list[InstanceInfo] = []

    @property
    def resource(self) -> str:
        return f"sy:endpoint/{self.name}"

    def variant(self, name: str) -> VariantInfo:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    @property
    def weights(self) -> dict[str, float]:
        """Production variant name -> weight."""
        return {v.name: v.weight for v in self.variants if v.role == "production"}


class VariantMetrics(WireModel):
    """Requests, errors and latency quantiles of one variant over a time range."""

    variant: str
    requests: int = 0
    errors: int = 0
    error_rate: float | None = None
    mean_latency_ms: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    p99_latency_ms: float | None = None
    shadow_comparisons: int = 0
    shadow_agreement: float | None = None

    def alarm_values(self) -> dict[str, float | None]:
        """The values the rollback alarms speak of (error rate as a fraction, latency in ms)."""
        return {
            "requests": float(self.requests),
            "error_rate": self.error_rate,
            "p50_latency": self.p50_latency_ms,
            "p95_latency": self.p95_latency_ms,
            "p99_latency": self.p99_latency_ms,
        }


MAX_FEEDBACK = 10_000


Metric = Literal["accuracy", "rmse"]


class FeedbackRecord(WireModel):
    """The ground truth of one answered request, by its X-Request-Id."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    label: Any


class FeedbackReceipt(WireModel):
    endpoint: str
    accepted: int
    replaced: int


class VariantQuality(WireModel):
    """A variant's quality on labelled requests, with its confidence interval."""

    metric: Metric
    n: int
    value: float
    ci_low: float
    ci_high: float
    interval: Literal["wilson", "bootstrap"]


class VariantComparison(WireModel):
    """A variant against the baseline: difference, interval, test and its verdict."""

    variant: str
    baseline: str
    metric: Metric
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool
    test: str
    statement: str


class VariantReport(WireModel):
    name: str
    role: str | None
    model_ref: str | None
    traffic_percent: float | None
    live: VariantMetrics
    quality: VariantQuality | None = None


class CompareReport(WireModel):
    """Everything ``shipyard endpoints compare`` shows."""

    endpoint: str
    since: datetime | None
    task: str
    metric: Metric
    confidence: float
    labelled: int
    matched: int
    baseline: str | None
    variants: list[VariantReport]
    comparisons: list[VariantComparison]
    note: str


class BanditArm(WireModel):
    variant: str
    successes: int
    failures: int
    posterior_mean: float
    probability_best: float
    weight: float


class BanditStep(WireModel):
    """One recomputation: the posteriors and the weights it set."""

    endpoint: str
    arms: list[BanditArm]
    weights: dict[str, float]
    generation: int


class VariantTraffic(WireModel):
    """One variant's series: entry ``i`` covers ``[start + i * bucket_seconds, ...)``."""

    variant: str
    requests: list[int]
    errors: list[int]
    error_rate: list[float | None]
    p50_latency_ms: list[float | None]
    p95_latency_ms: list[float | None]


class EndpointTraffic(WireModel):
    endpoint: str
    start: float
    bucket_seconds: float
    buckets: int
    variants: list[VariantTraffic]
