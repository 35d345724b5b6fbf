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

    max_inflight: int = Field(default=256, gt=0)
    """Prediction requests one worker holds at once; beyond it callers get 503 + Retry-After."""

    retry_after_seconds: int = Field(default=1, ge=1)
    """What an overloaded worker tells callers to wait."""

    batch_in_thread: bool = False
    """Run micro-batches in a worker thread instead of on the event loop."""

    shadow_queue: int = Field(default=1000, gt=0)
    """Shadow copies waiting for the shadow variant; more are dropped and counted."""

    capture_buffer: int = Field(default=100_000, gt=0)
    """Captured records held in memory; more are dropped and counted."""

    capture_flush_rows: int = Field(default=1000, gt=0)
    """Captured records per Parquet file; a full batch is written at the next tick."""

    capture_flush_seconds: float = Field(default=10.0, gt=0)
    """Longest a captured record waits in memory before being written."""

    audit_buffer: int = Field(default=10_000, gt=0)
    """Audit events (denials, feedback writes) waiting to be written; more are dropped,
    counted in ``shipyard_serving_dropped{kind="audit"}`` and reported as one audit event."""

    feedback_buffer: int = Field(default=100_000, gt=0)
    """Feedback labels waiting to be written; beyond it POST /feedback gets 503."""

    poll_seconds: float = Field(default=0.25, gt=0)
    """How often a worker checks the endpoint's generation (and flushes buffers)."""

    report_seconds: float = Field(default=1.0, gt=0)
    """How often a worker writes its heartbeat and per-variant window counts."""

    usage_seconds: float = Field(default=60.0, gt=0)
    """How often a worker stores a sample of its CPU seconds and memory (for cost)."""
