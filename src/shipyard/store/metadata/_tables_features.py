"""Feature store tables: versioned feature views, materialization runs, endpoint bindings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base


class FeatureView(Base):
    __tablename__ = "feature_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureViewVersion(Base):
    """One immutable definition of a view; ``spec`` holds entities, event time, features, TTL."""

    __tablename__ = "feature_view_versions"
    __table_args__ = (
        UniqueConstraint("view_id", "version"),
        UniqueConstraint("view_id", "digest"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    view_id: Mapped[int] = mapped_column(ForeignKey("feature_views.id", ondelete="CASCADE"))
    version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(80))
    spec: Mapped[dict[str, Any]]
    columns: Mapped[dict[str, Any]]
    source_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureMaterialization(Base):
    """One load of a view version's latest values into the online store: ``[start, end)``."""

    __tablename__ = "feature_materializations"
    __table_args__ = (
        Index("ix_feature_materializations_version_end", "view_version_id", "end_time"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    view_version_id: Mapped[int] = mapped_column(
        ForeignKey("feature_view_versions.id", ondelete="CASCADE")
    )
    start_time: Mapped[datetime | None] = mapped_column(default=None)
    end_time: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndpointFeatureBinding(Base):
    """Which online features an endpoint adds to its requests, keyed by endpoint name."""

    __tablename__ = "endpoint_feature_bindings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(100), unique=True)
    config: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeatureSourceIndex(Base):
    """A prepared point-in-time index of one source's content, keyed by what it was built from
    (the source files' digests, entity key columns, event time); its data are two blobs."""

    __tablename__ = "feature_source_indexes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    spec: Mapped[dict[str, Any]]
    keys_blob: Mapped[str] = mapped_column(String(80))
    events_blob: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
