"""Scheduled windows: one row per (kind, target, window start), claimed by one scheduler.

The unique constraint is what makes a window run once when several schedulers share the
database: the scheduler whose insert commits owns the window; the others' inserts fail.
``lease_until`` is renewed while the owner runs the window; a row still ``running`` after
its lease is taken over by another scheduler (its owner died mid-run).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.metadata._tables import Base


class ScheduleWindow(Base):
    """One window of one schedule: who claimed it, and how its run went."""

    __tablename__ = "schedule_windows"
    __table_args__ = (
        UniqueConstraint("kind", "target", "window_start", name="uq_schedule_windows_window"),
        Index("ix_schedule_windows_status", "status", "lease_until"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(200))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="running")
    """``running``, ``succeeded`` or ``failed``."""
    owner: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
