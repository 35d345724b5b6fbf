"""Erasure requests (rows removed by key from every version of a dataset) and retention rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class ErasureRequest(Base):
    """One erasure: which key, how many rows left each version, who asked and why.

    The erased values are never stored: only a salted SHA-256 over them (``values_hash``
    with ``salt``), so someone holding the values can show they were this request's, and
    nobody reading the database can learn them.
    """

    __tablename__ = "erasure_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    key_column: Mapped[str] = mapped_column(String(250))
    value_count: Mapped[int] = mapped_column(Integer)
    salt: Mapped[str] = mapped_column(String(64))
    values_hash: Mapped[str] = mapped_column(String(64))
    rows_removed: Mapped[int] = mapped_column(BigInteger)
    versions: Mapped[list[Any]]
    """``[{"version": 3, "rows_removed": 2}, ...]``, one entry per rewritten version."""
    purged_blobs: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionRule(Base):
    """How long one resource keeps its data: captures of an endpoint for ``days``, the last
    ``keep_last`` versions of a dataset, an experiment's deleted runs for ``days``. Applied
    by ``retention apply`` and the scheduler (every ``every_seconds``), as ``created_by``."""

    __tablename__ = "retention_rules"
    __table_args__ = (UniqueConstraint("kind", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    target: Mapped[str] = mapped_column(String(100))
    days: Mapped[int | None] = mapped_column(Integer, default=None)
    keep_last: Mapped[int | None] = mapped_column(Integer, default=None)
    every_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    anchor: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
