"""What the endpoint service takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Runtime = Literal["native", "onnx"]
Role = Literal["production", "shadow"]
CaptureMode = Literal["input", "output", "both"]


class VariantSpec(BaseModel):
    """A production variant to put on an endpoint: a model reference and its traffic weight."""

    model_config = ConfigDict(extra="forbid")

    name: str
    model: str
    weight: float = 1.0
    runtime: Runtime = "native"


class ShadowSpec(BaseModel):
    """A shadow variant: receives ``percent`` % copies of live requests, never answers them."""

    model_config = ConfigDict(extra="forbid")

    name: str = "shadow"
    model: str
    percent: float = 100.0
    runtime: Runtime = "native"


class CaptureConfig(BaseModel):
    """Data capture: which share of requests is recorded, and which side of them."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    sampling_percent: float = 100.0
    mode: CaptureMode = "both"


class BatchingConfig(BaseModel):
    """Adaptive micro-batching bounds."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    max_batch_size: int = 32
    max_wait_ms: float = 2.0


class VariantInfo(BaseModel):
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


class InstanceInfo(BaseModel):
    """A serving worker's last heartbeat."""

    worker: str
    generation: int
    variants: list[str]
    live: bool
    seconds_since_heartbeat: float
    failed_generation: int | None
    error: str
    url: str


class EndpointInfo(BaseModel):
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
