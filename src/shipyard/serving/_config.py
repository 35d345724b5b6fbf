"""What one serving worker answers with: an immutable snapshot of an endpoint's variants.

The app reads ``app.config`` once per request, so a reload swaps the whole
snapshot in one assignment while requests in flight finish on the one they took.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from random import random
from typing import Literal

from shipyard.errors import InvalidInput
from shipyard.serving._batcher import BatchingSettings, MicroBatcher
from shipyard.serving._enrich import RequestEnricher
from shipyard.serving._http import Headers
from shipyard.serving._slot import ModelSlot

Role = Literal["production", "shadow"]
CaptureMode = Literal["input", "output", "both"]
PRIMARY = "primary"
VARIANT_HEADER = "X-Shipyard-Variant"


@dataclass(frozen=True)
class CaptureSettings:
    """Data capture: the share of answered requests recorded, and which side of them."""

    enabled: bool = False
    sampling_percent: float = 100.0
    mode: CaptureMode = "both"

    @property
    def rate(self) -> float:
        """The fraction of requests to capture (0 when capture is off)."""
        return max(0.0, min(self.sampling_percent, 100.0)) / 100.0 if self.enabled else 0.0


class Variant:
    """One model version on the endpoint: a production share (weight) or a shadow copy."""

    __slots__ = ("batcher", "headers", "name", "role", "shadow_percent", "slot", "weight")

    def __init__(
        self,
        name: str,
        slot: ModelSlot,
        *,
        weight: float = 1.0,
        role: Role = "production",
        shadow_percent: float = 0.0,
    ) -> None:
        self.name = name
        self.slot = slot
        self.weight = float(weight)
        self.role = role
        self.shadow_percent = float(shadow_percent)
        self.headers: Headers = [(b"x-shipyard-variant", name.encode()), *slot.headers]
        self.batcher: MicroBatcher | None = None

    def __repr__(self) -> str:
        return f"Variant({self.name!r}, {self.slot.model_name}@{self.slot.model_version})"


class EndpointConfig:
    """An endpoint's variants, traffic split, capture, batching and enricher at one generation.

    With an ``enricher``, requests carry entity keys and the online store fills the bound inputs.
    """

    def __init__(
        self,
        variants: Sequence[Variant],
        *,
        generation: int = 0,
        capture: CaptureSettings | None = None,
        batching: BatchingSettings | None = None,
        enricher: RequestEnricher | None = None,
    ) -> None:
        if not variants:
            raise InvalidInput("an endpoint needs at least one variant", field="variants")
        self.generation = generation
        self.capture = capture or CaptureSettings()
        self.batching = batching or BatchingSettings()
        self.enricher = enricher
        self.variants = tuple(variants)
        self.by_name = {v.name: v for v in self.variants}
        production = [v for v in self.variants if v.role == "production"] or list(self.variants)
        self.production = tuple(production)
        self.shadows = tuple(v for v in self.variants if v.role == "shadow")
        self.default = max(self.production, key=lambda v: v.weight)
        running, cumulative = 0.0, []
        for variant in self.production:
            running += max(variant.weight, 0.0)
            cumulative.append(running)
        self._cumulative = cumulative
        self._total = running
        serving = [v for v in self.production if v.weight > 0]
        self._single = serving[0] if len(serving) == 1 else None
        if running <= 0:
            self._single = self.default
        self.capture_rate = self.capture.rate
        self.follow_up = bool(self.shadows) or self.capture_rate > 0
        for variant in self.variants:
            variant.batcher = variant.slot.batcher(self.batching)

    @classmethod
    def single(cls, slot: ModelSlot, name: str = PRIMARY) -> EndpointConfig:
        """One production variant taking all traffic."""
        return cls([Variant(name, slot)])

    def choose(self, pinned: str | None) -> Variant:
        """The variant named by the caller, else a production variant drawn by weight."""
        if pinned is not None:
            found = self.by_name.get(pinned)
            if found is None:
                names = ", ".join(sorted(self.by_name))
                raise InvalidInput(
                    f"unknown variant {pinned[:60]!r}; this endpoint has: {names}",
                    field=VARIANT_HEADER,
                )
            return found
        if self._single is not None:
            return self._single
        index = bisect_right(self._cumulative, random() * self._total)
        return self.production[min(index, len(self.production) - 1)]

    def weights(self) -> dict[str, float]:
        """Production variant name -> weight."""
        return {v.name: v.weight for v in self.production}

    def slots(self) -> dict[tuple[int | None, str], ModelSlot]:
        """The loaded slots by (model version id, runtime), for reuse by the next snapshot."""
        return {(v.slot.model_version_id, v.slot.runtime): v.slot for v in self.variants}
