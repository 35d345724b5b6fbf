"""An endpoint as the control plane describes it, and the config a worker builds from it.

The description (``EndpointSnapshot``) is plain data: the database link reads it in one
session, the supervisor's socket sends it as JSON. ``build_config`` turns it into the
``EndpointConfig`` a worker answers with, loading only the (version, runtime) pairs the
current config does not already hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shipyard.flavors._base import Predictor
from shipyard.schemas.features import EndpointFeatures
from shipyard.serving._batcher import BatchingSettings
from shipyard.serving._config import CaptureSettings, EndpointConfig, Role, Variant
from shipyard.serving._enrich import EnricherLoader
from shipyard.serving._slot import ModelSlot

PredictorLoader = Callable[[int, str], Predictor]
"""Loads the predictor of (model version id, runtime "native" or "onnx")."""


@dataclass(frozen=True)
class VariantSpec:
    """One variant's row: which model version it serves, how, and with what share."""

    name: str
    model_version_id: int
    runtime: str
    weight: float
    role: Role
    shadow_percent: float
    model_name: str
    model_version: int

    @property
    def key(self) -> tuple[int, str]:
        return (self.model_version_id, self.runtime)


@dataclass(frozen=True)
class EndpointSnapshot:
    """The endpoint's variants and live settings at one generation."""

    generation: int
    variants: tuple[VariantSpec, ...]
    capture: dict[str, Any]
    batching: dict[str, Any]
    features: EndpointFeatures | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "variants": [asdict(v) for v in self.variants],
            "capture": self.capture,
            "batching": self.batching,
            "features": None if self.features is None else self.features.model_dump(mode="json"),
        }

    @classmethod
    def from_wire(cls, document: dict[str, Any]) -> EndpointSnapshot:
        features = document.get("features")
        return cls(
            generation=int(document["generation"]),
            variants=tuple(VariantSpec(**v) for v in document["variants"]),
            capture=dict(document["capture"]),
            batching=dict(document["batching"]),
            features=None if features is None else EndpointFeatures.model_validate(features),
        )


def build_config(
    snapshot: EndpointSnapshot,
    current: EndpointConfig | None,
    load_predictor: PredictorLoader,
    *,
    in_thread: bool = False,
    enrichers: EnricherLoader | None = None,
) -> EndpointConfig:
    """The config ``snapshot`` describes; models ``current`` already holds are reused."""
    loaded = current.slots() if current is not None else {}
    variants = []
    for spec in snapshot.variants:
        slot = loaded.get(spec.key)
        if slot is None:
            predictor = load_predictor(*spec.key)
            slot = loaded[spec.key] = ModelSlot(
                spec.model_name,
                spec.model_version,
                predictor,
                model_version_id=spec.model_version_id,
                runtime=spec.runtime,
            )
        variants.append(
            Variant(
                spec.name,
                slot,
                weight=spec.weight,
                role=spec.role,
                shadow_percent=spec.shadow_percent,
            )
        )
    capture, batching = snapshot.capture, snapshot.batching
    enricher = (
        None
        if enrichers is None
        else enrichers.build(snapshot.features, current.enricher if current is not None else None)
    )
    return EndpointConfig(
        variants,
        generation=snapshot.generation,
        capture=CaptureSettings(
            enabled=bool(capture.get("enabled", False)),
            sampling_percent=float(capture.get("sampling_percent", 100.0)),
            mode=capture.get("mode", "both"),
        ),
        batching=BatchingSettings(
            enabled=bool(batching.get("enabled", False)),
            max_batch_size=int(batching.get("max_batch_size", 32)),
            max_wait_ms=float(batching.get("max_wait_ms", 2.0)),
            in_thread=in_thread,
        ),
        enricher=enricher,
    )
