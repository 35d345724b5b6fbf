"""What monitors say: their definition, each run, and the result of one window per variant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shipyard.schemas._base import WireModel

Kind = Literal["data", "prediction", "quality", "estimated", "attribution"]
KINDS: tuple[str, ...] = ("data", "prediction", "quality", "estimated", "attribution")
DEFAULT_KINDS: tuple[str, ...] = ("data", "prediction", "quality")


@dataclass(frozen=True)
class MetricPoint:
    """One exported value: at its window's end, over ``samples`` rows (or labels)."""

    time: datetime
    value: float
    samples: int


class MonitorInfo(WireModel):
    name: str
    endpoint: str
    baseline: str | None
    """``dataset@version``; None: each variant's training data, from lineage."""
    kinds: list[str]
    schedule_seconds: int
    anchor: datetime
    enabled: bool
    created_by: str
    created_at: datetime
    runs: int = 0
    last_run: MonitorRunInfo | None = None


class MonitorRunInfo(WireModel):
    id: str
    monitor: str
    number: int
    window_start: datetime
    window_end: datetime
    trigger: str
    principal: str
    status: Literal["succeeded", "failed", "refused"]
    message: str
    requests: int
    summary: dict[str, Any]
    created_at: datetime


class FeatureDrift(WireModel):
    """One feature's drift: the statistic chosen for its type and the baseline's size."""

    feature: str
    kind: Literal["numeric", "categorical"]
    method: str
    score: float | None
    threshold: float
    drifted: bool
    rule: str
    reference_rows: int
    current_rows: int
    missing_share: float
    unseen_share: float | None = None
    bins: list[tuple[str, float, float]] = []
    """(label, baseline share, current share) for the report's distribution chart."""


class QualityResult(WireModel):
    metric: str
    value: float
    labelled: int
    others: dict[str, float] = {}


class EstimatedPerformance(WireModel):
    method: str
    metrics: dict[str, float]
    rows: int
    assumptions: list[str]
    refused: str | None = None


class AttributionDrift(WireModel):
    method: str
    score: float | None
    threshold: float
    drifted: bool
    baseline: dict[str, float]
    current: dict[str, float]
    rows: int
    refused: str | None = None


class VariantResult(WireModel):
    variant: str
    model: str | None
    baseline: str | None
    requests: int
    rows: int
    features: list[FeatureDrift] = []
    drift_share: float | None = None
    drift_share_threshold: float = 0.5
    dataset_drift: bool | None = None
    prediction: FeatureDrift | None = None
    missing_share: float | None = None
    unseen_share: float | None = None
    schema_violations: int = 0
    quality: QualityResult | None = None
    estimated: EstimatedPerformance | None = None
    attribution: AttributionDrift | None = None
    notes: list[str] = []


class MonitorResult(WireModel):
    """The JSON result of one run, stored as a blob next to its HTML report."""

    monitor: str
    endpoint: str
    window_start: datetime
    window_end: datetime
    kinds: list[str]
    methods: dict[str, str]
    variants: list[VariantResult]
    metrics: dict[str, tuple[float, int]]
    """Every exported value: name -> (value, samples)."""


MonitorInfo.model_rebuild()
