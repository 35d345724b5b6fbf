"""Monitor tables: each monitor's definition, one row per window it ran, and every value it
exported (the series alarms and ``metric_points`` read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
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


class Monitor(Base):
    """Scheduled checks of an endpoint's captured traffic against a baseline."""

    __tablename__ = "monitors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    endpoint: Mapped[str] = mapped_column(String(100), index=True)
    baseline: Mapped[str | None] = mapped_column(String(200), default=None)
    """``dataset@version``; None: each variant's model version's training data (lineage)."""
    kinds: Mapped[list[Any]]
    every_seconds: Mapped[int] = mapped_column(BigInteger)
    anchor: Mapped[datetime]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitorRun(Base):
    """One window a monitor checked: its outcome, and the blobs of its result and report."""

    __tablename__ = "monitor_runs"
    __table_args__ = (UniqueConstraint("monitor_id", "number"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(20))
    principal: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result_digest: Mapped[str | None] = mapped_column(String(80), default=None)
    report_digest: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitorMetric(Base):
    """One value a run exported, at its window's end; late labels update quality values."""

    __tablename__ = "monitor_metrics"
    __table_args__ = (Index("ix_monitor_metrics_series", "monitor_id", "name", "window_end"),)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    window_end: Mapped[datetime]
    value: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(BigInteger)
