"""The one shape every job has, whatever its kind (training, batch transform, own code).

``jobs`` holds what the job system owns: status, progress, the worker's pid, attempts,
limits and the resource record. What only one kind knows (a training spec, a batch job's
chunks) lives in that kind's own table, keyed by the same id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class Job(Base):
    """A job of any kind; ``scope`` is the name its resource is scoped by
    (``sy:<kind>-job/<scope>/<id>``: the experiment, the output dataset)."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, default=0)
    limits: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"), default=None)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class AutoMLJob(Base):
    """What an AutoML job searches (dataset version, target, budget...) and, once it has
    succeeded, its leaderboard."""

    __tablename__ = "automl_jobs"
    id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    spec: Mapped[dict[str, Any]]
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    leaderboard: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class CodeFile(Base):
    """A source file of an own-code training job, kept until its worker stored it with the run."""

    __tablename__ = "job_code_files"
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(Integer)


class TuningJob(Base):
    """What a tuning job searches: its spec (the training spec inside), the dataset version it
    trains on, and the Optuna study that holds its trials (in the study storage)."""

    __tablename__ = "tuning_jobs"
    id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    spec: Mapped[dict[str, Any]]
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    study_name: Mapped[str] = mapped_column(String(100), unique=True)
