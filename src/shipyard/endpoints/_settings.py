"""An endpoint's live settings: production flag, data capture and micro-batching."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.endpoints._describe import endpoint_info
from shipyard.endpoints._variants import (
    bump,
    check_percent,
    find_endpoint,
    lock_endpoint,
    variants_of,
)
from shipyard.errors import Conflict, InvalidInput
from shipyard.names import resource
from shipyard.schemas.endpoints import BatchingConfig, CaptureConfig, EndpointInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t

MAX_BATCH_SIZE = 4096
MAX_BATCH_WAIT_MS = 1000.0


def check_capture(config: CaptureConfig) -> dict[str, Any]:
    check_percent(config.sampling_percent, field="capture.sampling_percent")
    return config.model_dump()


def check_batching(config: BatchingConfig) -> dict[str, Any]:
    if not 1 <= config.max_batch_size <= MAX_BATCH_SIZE:
        raise InvalidInput(
            f"must be from 1 to {MAX_BATCH_SIZE}, got {config.max_batch_size}",
            field="batching.max_batch_size",
        )
    if not 0 <= config.max_wait_ms <= MAX_BATCH_WAIT_MS:
        raise InvalidInput(
            f"must be from 0 to {MAX_BATCH_WAIT_MS:g} ms, got {config.max_wait_ms}",
            field="batching.max_wait_ms",
        )
    return config.model_dump()


def exposure_keys(production: bool | None, capture: object) -> dict[str, object]:
    """An endpoint change as condition keys: ``sy:EndpointProduction`` and ``sy:DataCapture``
    (absent when the call leaves them as they are)."""
    if isinstance(capture, dict):
        enabled = capture.get("enabled", True)
    else:
        enabled = getattr(capture, "enabled", None)
    return {"sy:EndpointProduction": production, "sy:DataCapture": enabled}


@operation(
    "endpoints:UpdateEndpoint",
    lambda name: resource("endpoint", name),
    context=exposure_keys,
    mutating=True,
)
def configure_endpoint(
    ctx: RequestContext,
    name: str,
    production: bool | None = None,
    capture: CaptureConfig | None = None,
    batching: BatchingConfig | None = None,
) -> EndpointInfo:
    """Change the production flag, data capture or batching; serving workers reload live."""
    capture_doc = check_capture(capture) if capture is not None else None
    batching_doc = check_batching(batching) if batching is not None else None
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        state = lock_endpoint(session, row)
        if production:
            _check_all_approved(session, row)
        if production is not None:
            state.production = production
        if capture_doc is not None:
            state.capture = capture_doc
        if batching_doc is not None:
            state.batching = batching_doc
        bump(session, row, state)
        return endpoint_info(session, row)


def _check_all_approved(session: Session, row: t.Endpoint) -> None:
    pending = []
    for variant in variants_of(session, row.id):
        version = session.get(t.ModelVersion, variant.model_version_id)
        assert version is not None
        if version.approval != "Approved":
            model = session.get(t.Model, version.model_id)
            assert model is not None
            pending.append(f"{variant.name} ({model.name}@{version.version}: {version.approval})")
    if pending:
        raise Conflict(
            "a production endpoint serves Approved versions only; not approved: "
            + ", ".join(pending),
            field="production",
        )
