"""Endpoints in the SDK: variants and weights, live settings, feedback, A/B results, bandit."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from shipyard.client._group import _Group, read_file
from shipyard.client._paging import Listing, fetch_listing
from shipyard.errors import InvalidInput
from shipyard.schemas.datasets import DeletionInfo
from shipyard.schemas.endpoints import (
    BanditStep,
    CompareReport,
    EndpointInfo,
    EndpointTraffic,
    FeedbackReceipt,
)

FEEDBACK_CHUNK = 10_000


def read_endpoint_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """An endpoint config (variants, shadow, production, capture, batching) from a YAML file."""
    try:
        loaded = yaml.safe_load(read_file(path))
    except yaml.YAMLError as error:
        raise InvalidInput(
            f"{Path(path).name} is not valid YAML: {error}", field="config"
        ) from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{Path(path).name} must hold a mapping", field="config")
    return loaded


def _seconds(value: float | str | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    from shipyard.schemas.durations import parse_duration

    return parse_duration(value, field="since")


class Endpoints(_Group):
    def create(
        self,
        name: str,
        model: str | None = None,
        *,
        variants: builtins.list[Mapping[str, Any]] | None = None,
        shadow: Mapping[str, Any] | None = None,
        production: bool = False,
        capture: Mapping[str, Any] | None = None,
        batching: Mapping[str, Any] | None = None,
        config: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> EndpointInfo:
        """Create an endpoint serving ``model`` (variant "primary") or weighted ``variants``.

        ``config`` (a mapping or a YAML file) gives the same keys as the arguments; ``tags``
        are set at creation (which needs ``endpoints:TagResource`` too).
        """
        body: dict[str, Any] = {}
        if config is not None:
            body.update(config if isinstance(config, Mapping) else read_endpoint_config(config))
        given = {
            "model": model,
            "variants": variants,
            "shadow": shadow,
            "capture": capture,
            "batching": batching,
            "tags": dict(tags) if tags else None,
        }
        body.update({k: v for k, v in given.items() if v is not None})
        if production:
            body["production"] = True
        return EndpointInfo.model_validate(self._t.call("endpoints.create", name=name, **body))

    def update(self, name: str, model: str) -> EndpointInfo:
        """Serve only ``model`` from now on (live; a shadow stays)."""
        return EndpointInfo.model_validate(self._t.call("endpoints.update", name=name, model=model))

    def get(self, name: str) -> EndpointInfo:
        """Variants with weights and traffic shares, generation, settings, serving workers."""
        return EndpointInfo.model_validate(self._t.call("endpoints.get", name=name))

    def list(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Listing[EndpointInfo]:
        """Endpoints by name (those whose name holds ``name_contains``, any case): every
        one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(
            self._t, "endpoints.list", EndpointInfo, limit, page_token, name_contains=name_contains
        )

    def delete(self, name: str) -> EndpointInfo:
        return EndpointInfo.model_validate(self._t.call("endpoints.delete", name=name))

    def delete_captures(
        self, name: str, *, reason: str, before: datetime | None = None
    ) -> DeletionInfo:
        """Delete the endpoint's captured requests (whole hours before ``before``, if given)."""
        return DeletionInfo.model_validate(
            self._t.call(
                "endpoints.delete_captures",
                name=name,
                before=before.isoformat() if before is not None else None,
                reason=reason,
            )
        )

    def set_weights(self, name: str, weights: Mapping[str, float]) -> EndpointInfo:
        """E.g. ``{"primary": 90, "challenger": 10}``; variants not named keep their weight."""
        return EndpointInfo.model_validate(
            self._t.call("endpoints.set_weights", name=name, weights=dict(weights))
        )

    def add_variant(
        self,
        name: str,
        variant: str,
        model: str,
        *,
        weight: float = 0.0,
        runtime: str = "native",
        shadow_percent: float | None = None,
    ) -> EndpointInfo:
        """Add a production variant, or a shadow that gets ``shadow_percent`` % request copies."""
        return EndpointInfo.model_validate(
            self._t.call(
                "endpoints.add_variant",
                name=name,
                variant=variant,
                model=model,
                weight=weight,
                runtime=runtime,
                shadow_percent=shadow_percent,
            )
        )

    def remove_variant(self, name: str, variant: str) -> EndpointInfo:
        return EndpointInfo.model_validate(
            self._t.call("endpoints.remove_variant", name=name, variant=variant)
        )

    def configure(
        self,
        name: str,
        *,
        production: bool | None = None,
        capture: Mapping[str, Any] | None = None,
        batching: Mapping[str, Any] | None = None,
    ) -> EndpointInfo:
        """Change the production flag, data capture or micro-batching, live."""
        return EndpointInfo.model_validate(
            self._t.call(
                "endpoints.configure",
                name=name,
                production=production,
                capture=dict(capture) if capture is not None else None,
                batching=dict(batching) if batching is not None else None,
            )
        )

    def feedback(self, name: str, records: Iterable[Mapping[str, Any]]) -> FeedbackReceipt:
        """Post ground truth: ``[{"request_id": ..., "label": ...}, ...]`` (any number)."""
        batch: builtins.list[dict[str, Any]] = []
        accepted = replaced = 0

        def send() -> None:
            nonlocal accepted, replaced
            receipt = FeedbackReceipt.model_validate(
                self._t.call("endpoints.feedback", name=name, records=batch)
            )
            accepted += receipt.accepted
            replaced += receipt.replaced
            batch.clear()

        for record in records:
            batch.append(dict(record))
            if len(batch) == FEEDBACK_CHUNK:
                send()
        if batch or not accepted:
            send()
        return FeedbackReceipt(endpoint=name, accepted=accepted, replaced=replaced)

    def traffic(self, name: str, *, minutes: int = 60, buckets: int = 60) -> EndpointTraffic:
        """Per variant over the last ``minutes``, in ``buckets`` equal steps: requests,
        errors, error rate and p50/p95 latency."""
        return EndpointTraffic.model_validate(
            self._t.call("endpoints.traffic", name=name, minutes=minutes, buckets=buckets)
        )

    def compare(
        self, name: str, *, since: float | str | None = None, confidence: float = 0.95
    ) -> CompareReport:
        """A/B results per variant; ``since`` limits to the last seconds (or "1h", "30m")."""
        return CompareReport.model_validate(
            self._t.call(
                "endpoints.compare",
                name=name,
                since_seconds=_seconds(since),
                confidence=confidence,
            )
        )

    def bandit(
        self,
        name: str,
        *,
        enabled: bool = True,
        interval: float | str = 60.0,
        min_percent: float = 5.0,
    ) -> EndpointInfo:
        """Turn Thompson-sampling bandit mode on (or off)."""
        return EndpointInfo.model_validate(
            self._t.call(
                "endpoints.configure_bandit",
                name=name,
                enabled=enabled,
                interval_seconds=_seconds(interval),
                min_percent=min_percent,
            )
        )

    def bandit_step(self, name: str, *, seed: int | None = None) -> BanditStep:
        """Recompute bandit weights from feedback and set them."""
        return BanditStep.model_validate(
            self._t.call("endpoints.bandit_step", name=name, seed=seed)
        )
