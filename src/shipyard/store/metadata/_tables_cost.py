"""Cost: what serving workers used, sampled periodically (jobs keep theirs on ``jobs``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class EndpointUsageSample(Base):
    """One serving worker's use over ``interval_seconds`` ending at ``time``: the CPU seconds
    it spent in that interval and its resident memory when sampled."""

    __tablename__ = "endpoint_usage_samples"
    __table_args__ = (Index("ix_endpoint_usage_samples_endpoint_time", "endpoint", "time"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100))
    worker: Mapped[str] = mapped_column(String(100))
    time: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    interval_seconds: Mapped[float] = mapped_column(Float)
    cpu_seconds: Mapped[float] = mapped_column(Float)
    memory_mb: Mapped[float] = mapped_column(Float)
