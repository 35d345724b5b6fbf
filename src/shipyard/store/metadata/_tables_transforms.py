"""Metadata tables of partitioned dataset versions and of transforms, their versions and runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class DatasetPartition(Base):
    """One Parquet file of a partitioned dataset version, with its partition values."""

    __tablename__ = "dataset_partitions"
    __table_args__ = (UniqueConstraint("dataset_version_id", "ordinal"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int]
    partition_values: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class Transform(Base):
    __tablename__ = "transforms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransformVersion(Base):
    """One immutable version of a transform: its spec, and the digest of its code."""

    __tablename__ = "transform_versions"
    __table_args__ = (UniqueConstraint("transform_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transform_id: Mapped[int] = mapped_column(ForeignKey("transforms.id", ondelete="CASCADE"))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    spec: Mapped[dict[str, Any]]
    spec_digest: Mapped[str] = mapped_column(String(80))
    code_digest: Mapped[str] = mapped_column(String(80))
    source_digest: Mapped[str | None] = mapped_column(String(80), default=None)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransformRun(Base):
    """A run that produced an output dataset version; ``cache_key`` digests code and inputs."""

    __tablename__ = "transform_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    transform_version_id: Mapped[int] = mapped_column(
        ForeignKey("transform_versions.id", ondelete="CASCADE"), index=True
    )
    cache_key: Mapped[str] = mapped_column(String(80), index=True)
    engine: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="succeeded")
    output_dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id"), index=True
    )
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransformRunInput(Base):
    """Lineage: which dataset version a run read under which name."""

    __tablename__ = "transform_run_inputs"
    run_id: Mapped[str] = mapped_column(
        ForeignKey("transform_runs.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
