"""Edge exports of model versions, and batch transform jobs with their finished chunks.

``model_exports`` is read by the data plane to serve a version's ONNX form
(runtime "onnx"); ``batch_chunks`` makes batch jobs resumable after a crash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class ModelExport(Base):
    """A converted, parity-checked form of a model version (``format`` "onnx")."""

    __tablename__ = "model_exports"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    package_digest: Mapped[str] = mapped_column(String(80))
    parity: Mapped[dict[str, Any]]
    quantized: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchJob(Base):
    """Scoring one dataset version with one model version into a new dataset version
    (its status, pid and attempts are in ``jobs``)."""

    __tablename__ = "batch_jobs"
    id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    input_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    output_name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]]
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    output_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id"), default=None
    )


class BatchChunk(Base):
    """A finished chunk of a batch job: its output Parquet is the blob ``digest``."""

    __tablename__ = "batch_chunks"
    job_id: Mapped[str] = mapped_column(
        ForeignKey("batch_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    chunk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(80))
    attempt: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
