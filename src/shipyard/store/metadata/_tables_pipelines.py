"""Pipelines: a named DAG of steps (each version of its spec kept), its runs and their steps.

A pipeline run is a job of the one job system (``jobs``, kind ``pipeline``);
``pipeline_runs`` adds what only a pipeline run knows, keyed by the job's id, and
``pipeline_steps`` holds each step's status, cache key and outputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class Pipeline(Base):
    """A pipeline's current definition; ``version`` counts its definitions (from 1)."""

    __tablename__ = "pipelines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    spec: Mapped[dict[str, Any]]
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Relative path -> blob digest of the code and data files sent with the pipeline."""
    watched: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Dataset name -> the last version that started a run (dataset triggers)."""
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PipelineRun(Base):
    """One run: the definition it ran (a copy), its parameters and what started it."""

    __tablename__ = "pipeline_runs"
    id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String(100), index=True)
    pipeline_version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trigger: Mapped[str] = mapped_column(String(300), default="manual")


class PipelineStep(Base):
    """One step of a run: status, attempts, times, cache key, outputs, the job it started."""

    __tablename__ = "pipeline_steps"
    __table_args__ = (UniqueConstraint("run_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cache_key: Mapped[str | None] = mapped_column(String(80), default=None, index=True)
    reused_from: Mapped[str | None] = mapped_column(String(32), default=None)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    child_job: Mapped[str | None] = mapped_column(String(32), default=None)
    message: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class PipelineOutput(Base):
    """Lineage: a resource a step produced (``kind`` dataset-version, run, model-version,
    deployment...; ``ref`` as ``name@3`` or an id) and the pipeline run that produced it."""

    __tablename__ = "pipeline_outputs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
