"""What a caller hears when a model raises on input that passed the checks.

Logged with the model's name and version; answered as ``PredictionFailed`` (or, for an
input enriched from the feature store, blamed on the store's nulls when they fed it).
"""

from __future__ import annotations

import logging
from typing import NoReturn

from shipyard.errors import InvalidInput, PredictionFailed
from shipyard.serving._enrich import EnrichedRequest
from shipyard.serving._slot import ModelSlot

logger = logging.getLogger("shipyard.serving._app")


def model_failure(slot: ModelSlot, exc: Exception) -> PredictionFailed:
    """What the caller hears when the model raised on input that passed the checks."""
    logger.error(
        "model %s v%s failed to predict", slot.model_name, slot.model_version, exc_info=exc
    )
    detail = f"{type(exc).__name__}: {exc}"
    return PredictionFailed(f"the model failed on this input ({detail[:300]})")


def raise_enriched(enriched: EnrichedRequest, slot: ModelSlot, exc: Exception) -> NoReturn:
    """Raise a model's refusal of an enriched input: blamed on the store's nulls when they fed
    it (422), else as any refusal (``InvalidInput`` as it is, other errors as failures)."""
    failure: Exception | None = enriched.explain(slot, exc)
    if failure is None and not isinstance(exc, InvalidInput):
        failure = model_failure(slot, exc)
    if failure is None:
        raise exc
    raise failure from exc
