"""Metadata tables of streaming ingestion: stream specs, commits, committed record ids, the log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.clock import utcnow
from shipyard.store.metadata._tables import Base

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Stream(Base):
    """A named stream with running counters; its spec lives in versions."""

    __tablename__ = "streams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    commits: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_records: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_records: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicate_records: Mapped[int] = mapped_column(BigInteger, default=0)
    last_commit_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamVersion(Base):
    """One immutable version of a stream's spec (schema, target, commit policy, source)."""

    __tablename__ = "stream_versions"
    __table_args__ = (UniqueConstraint("stream_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(80))
    spec: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamPartition(Base):
    """One commit: a Parquet partition of validated records, stored as a blob."""

    __tablename__ = "stream_partitions"
    __table_args__ = (
        UniqueConstraint("stream_id", "seq"),
        Index("ix_stream_partitions_created", "stream_id", "created_at"),
        Index("ix_stream_partitions_records_through", "stream_id", "records_through"),
    )
    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    stream_version: Mapped[int]
    dataset: Mapped[str] = mapped_column(String(100))
    dataset_version: Mapped[int | None] = mapped_column(default=None)
    digest: Mapped[str | None] = mapped_column(String(80), default=None)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    first_offset: Mapped[str] = mapped_column(String(100), default="")
    last_offset: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The stream's committed record count after this commit: the dedupe window by count.
    records_through: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class StreamRecordId(Base):
    """The committed record ids of a stream within its dedupe window (see streams/_retention):
    what makes redelivery exactly-once in effect.

    No foreign keys: each commit inserts thousands of rows, and a per-row reference check
    would cost more than the insert; the rows follow their stream and partition by id.
    """

    __tablename__ = "stream_record_ids"
    __table_args__ = (Index("ix_stream_record_ids_partition", "stream_id", "partition_id"),)
    stream_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition_id: Mapped[int] = mapped_column(_BIG_ID)


class StreamOffset(Base):
    """The last broker offset committed per source partition of a stream."""

    __tablename__ = "stream_offsets"
    stream_id: Mapped[int] = mapped_column(
        ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    offset: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamRejection(Base):
    """A record refused by validation, with the reason and the start of its bytes."""

    __tablename__ = "stream_rejections"
    __table_args__ = (UniqueConstraint("stream_id", "source", "offset"),)
    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(200))
    offset: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StreamLogEntry(Base):
    """A record accepted over HTTP for a stream whose source is ``http``, not yet committed."""

    __tablename__ = "stream_log"
    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    stream_id: Mapped[int] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    key: Mapped[str | None] = mapped_column(String(200), default=None)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
