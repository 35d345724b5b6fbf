"""Tunables of the serving runtime."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServingSettings(BaseModel):
    """Limits and tuning for one serving app; read once, passed explicitly."""

    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    """Largest request body accepted; bigger bodies get 413."""

    offload_rows: int = Field(default=512, gt=0)
    """Batches of at least this many rows are predicted in a worker thread, off the event loop."""
