"""Endpoint tables: variants and their traffic, live state, per-variant stats, captures, rollouts.

The control plane writes variants, states, feedback and deployments; serving
workers write ``variant_stats``, ``capture_files`` and ``endpoint_instances``
and reload when ``endpoint_states.generation`` changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class EndpointVariant(Base):
    """One model version on an endpoint: a production share (weight) or a shadow copy."""

    __tablename__ = "endpoint_variants"
    __table_args__ = (UniqueConstraint("endpoint_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    weight: Mapped[float] = mapped_column(Float, default=0.0)
    role: Mapped[str] = mapped_column(String(20), default="production")
    shadow_percent: Mapped[float] = mapped_column(Float, default=0.0)
    runtime: Mapped[str] = mapped_column(String(20), default="native")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndpointState(Base):
    """An endpoint's live settings; ``generation`` grows on every change so servers reload."""

    __tablename__ = "endpoint_states"
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(Integer, default=1)
    production: Mapped[bool] = mapped_column(Boolean, default=False)
    capture: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    batching: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    bandit: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class VariantStats(Base):
    """Requests, errors and a latency histogram of one variant on one worker in a 10 s window."""

    __tablename__ = "variant_stats"
    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    variant: Mapped[str] = mapped_column(String(50), primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[float] = mapped_column(Float, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    latency_buckets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shadow_agreements: Mapped[int] = mapped_column(Integer, default=0)
    shadow_comparisons: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)


class EndpointInstance(Base):
    """A serving worker's heartbeat: which generation it serves, or why it could not load one."""

    __tablename__ = "endpoint_instances"
    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    variants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    failed_generation: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[float] = mapped_column(Float, default=0.0)
    heartbeat_at: Mapped[float] = mapped_column(Float, default=0.0)


class CaptureFile(Base):
    """One Parquet blob of captured requests of an endpoint, partitioned by hour."""

    __tablename__ = "capture_files"
    __table_args__ = (Index("ix_capture_files_endpoint_hour", "endpoint", "hour"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    hour: Mapped[str] = mapped_column(String(13))
    digest: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """A ground-truth label posted back for a request id."""

    __tablename__ = "feedback"
    endpoint: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[Any] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deployment(Base):
    """A guarded rollout: its plan, where it is, what it replaced and every step it took."""

    __tablename__ = "deployments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100), index=True)
    strategy: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="running")
    from_variants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    to_variant: Mapped[str] = mapped_column(String(50), default="")
    step: Mapped[int] = mapped_column(Integer, default=-1)
    step_started_at: Mapped[float] = mapped_column(Float, default=0.0)
    heartbeat_at: Mapped[float] = mapped_column(Float, default=0.0)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
