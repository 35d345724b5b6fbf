"""Evaluations of model versions on dataset versions, the gates set on models, and gate checks.

An evaluation's HTML report is the blob ``report_digest``; a gate check records one
decision (register, approve, deploy) about one version, with the rule that decided it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class ModelEvaluation(Base):
    """Metrics (with bootstrap intervals) of one model version on one dataset version."""

    __tablename__ = "model_evaluations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    baseline_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), default=None
    )
    rows: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[dict[str, Any]]
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    report_digest: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelGate(Base):
    """Validation thresholds a model's versions must meet at the stages it names."""

    __tablename__ = "model_gates"
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[str] = mapped_column(String(200))
    baseline: Mapped[str | None] = mapped_column(String(100), default=None)
    thresholds: Mapped[dict[str, Any]]
    stages: Mapped[list[Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GateCheck(Base):
    """One gate decision about a version at a stage, and why."""

    __tablename__ = "model_gate_checks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    evaluation_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_evaluations.id", ondelete="SET NULL"), default=None
    )
    checked_by: Mapped[str] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
