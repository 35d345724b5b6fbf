"""What evaluations and gates return (wire types: pydantic only)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shipyard.schemas._base import WireModel
from shipyard.schemas.thresholds import MetricThreshold, RuleResult

Stage = Literal["register", "approve", "deploy"]
STAGES: tuple[Stage, ...] = ("register", "approve", "deploy")


class MetricEstimate(WireModel):
    """A metric on the whole data, and its bootstrap percentile interval (None: undefined)."""

    value: float | None
    low: float | None
    high: float | None


class EvaluationInfo(WireModel):
    """A model version scored on a labelled dataset version, and what it was held to."""

    id: str
    model: str
    version: int
    data: str
    target: str
    task: str
    rows: int
    metrics: dict[str, MetricEstimate]
    confidence: float
    resamples: int
    seed: int
    classes: list[str] | None = None
    confusion_matrix: list[list[int]] | None = None
    baseline: str | None = None
    baseline_metrics: dict[str, float | None] | None = None
    thresholds: dict[str, MetricThreshold] = {}
    validation: list[RuleResult] = []
    passed: bool | None = None
    report_digest: str = ""
    created_by: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:evaluation/{self.model}/{self.id}"

    @property
    def ref(self) -> str:
        return f"{self.model}@{self.version}"

    def point(self) -> dict[str, float]:
        """Metric values without intervals (undefined ones left out)."""
        return {k: m.value for k, m in self.metrics.items() if m.value is not None}


class GateInfo(WireModel):
    """Thresholds a model's new, approved or deployed versions must meet on ``data``."""

    model: str
    data: str
    baseline: str | None
    thresholds: dict[str, MetricThreshold]
    stages: list[Stage]
    created_by: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:model/{self.model}"


class GateCheckInfo(WireModel):
    """One gate decision about a version at a stage, with the rule results behind it."""

    model: str
    version: int
    stage: Stage
    passed: bool
    reason: str
    evaluation_id: str | None
    checked_by: str
    checked_at: datetime
