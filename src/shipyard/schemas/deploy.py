"""What the deployment service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from shipyard.schemas._base import WireModel
from shipyard.schemas.endpoints import VariantMetrics

DeploymentStatus = Literal["running", "succeeded", "rolled_back", "failed", "aborted"]
TICK_SECONDS = 0.5
"""How often a rollout's controller looks at its deployment (and a waiting client polls)."""

FINAL_STATUSES = ("succeeded", "rolled_back", "failed", "aborted")


class DeploymentEvent(WireModel):
    """One entry of a rollout's history: what happened, the weights after, the metrics behind."""

    time: datetime
    event: str
    step: int | None = None
    weights: dict[str, float] = {}
    metrics: dict[str, Any] | None = None
    note: str = ""


class StepProgress(WireModel):
    """Where a running rollout is: warming (waiting for servers) or baking step ``step``."""

    phase: Literal["warming", "baking"]
    step: int
    steps: int
    percent: float
    elapsed_seconds: float
    bake_seconds: float
    metrics: VariantMetrics | None = None


class DeploymentInfo(WireModel):
    """A guarded rollout of a model version onto an endpoint, blue/green."""

    id: str
    endpoint: str
    strategy: str
    status: DeploymentStatus
    model: str
    to_variant: str
    steps: list[float]
    bake_seconds: float
    rollback_on: str
    spec: dict[str, Any]
    from_variants: list[dict[str, Any]]
    history: list[DeploymentEvent]
    reason: str
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    seconds_since_heartbeat: float | None = None
    progress: StepProgress | None = None

    @property
    def resource(self) -> str:
        return f"sy:deployment/{self.id}"

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES
