"""Alarms: a threshold on a monitor's or an endpoint's metric, its state and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class Alarm(Base):
    """An alarm's rule, actions (webhook secrets sealed) and current state."""

    __tablename__ = "alarms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(120))
    """``monitor:<name>`` or ``endpoint:<name>``."""
    metric: Mapped[str] = mapped_column(String(200))
    comparison: Mapped[str] = mapped_column(String(4))
    threshold: Mapped[float] = mapped_column(Float)
    period_seconds: Mapped[float] = mapped_column(Float)
    evaluation_periods: Mapped[int] = mapped_column(Integer)
    datapoints_to_alarm: Mapped[int] = mapped_column(Integer)
    min_samples: Mapped[int] = mapped_column(Integer)
    treat_missing: Mapped[str] = mapped_column(String(20))
    actions: Mapped[list[Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(20), default="INSUFFICIENT_DATA")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    state_updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    anchor: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlarmEvent(Base):
    """One entry of an alarm's history: a state change, an evaluation, or an action's outcome."""

    __tablename__ = "alarm_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    """``state``, ``action`` or ``created``."""
    old_state: Mapped[str | None] = mapped_column(String(20), default=None)
    new_state: Mapped[str | None] = mapped_column(String(20), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]]
