"""The commit path: one metadata transaction that claims record ids and registers a partition.

The transaction locks the stream, inserts the batch's record ids with INSERT ... ON
CONFLICT DO NOTHING (ids committed before are duplicates, left out of the partition),
stores the Parquet partition in the blob store and registers it with the rejections,
offsets, counters and a new dataset version, and forgets the ids that left the dedupe
window (see ``_retention``). The broker is acknowledged only after it
commits; a crash before that leaves nothing behind but an unreferenced blob, and
redelivered records are recognised by id and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.data import write_parquet_bytes
from shipyard.errors import Conflict
from shipyard.platform import Platform
from shipyard.schemas.streams import StreamCommitInfo, StreamSpec
from shipyard.store.metadata import stream_tables as st
from shipyard.streams._buffer import RecordBuffer, RejectedMessage
from shipyard.streams._dataset import register_partition
from shipyard.streams._retention import prune_record_ids

_ATTEMPTS = 3
_REJECTIONS: sa.Table = st.StreamRejection.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class LoadedStream:
    """A stream's row id and the spec version a consumer works with."""

    stream_id: int
    version: int
    spec: StreamSpec

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class CommitResult:
    """What one commit wrote; ``table`` holds the new rows (None when there were none)."""

    rows: int
    rejected: int
    duplicates: int
    info: StreamCommitInfo | None
    table: pa.Table | None


def _insert_new(
    session: Session, table: sa.Table, rows: list[dict[str, Any]], returning: sa.Column[Any]
) -> list[Any]:
    """Insert ``rows``, skipping those that clash with a unique key; ``returning`` of new ones."""
    if not rows:
        return []
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing().returning(returning)
    return list(session.execute(statement, rows).scalars())


_CLAIM_IDS = {
    "postgresql": sa.text(
        "INSERT INTO stream_record_ids (stream_id, record_id, partition_id) "
        "SELECT :stream_id, id, :partition_id FROM unnest(CAST(:ids AS varchar[])) AS id "
        "ON CONFLICT DO NOTHING"
    ),
    "sqlite": sa.text(
        "INSERT INTO stream_record_ids (stream_id, record_id, partition_id) "
        "SELECT :stream_id, value, :partition_id FROM json_each(:ids) WHERE true "
        "ON CONFLICT DO NOTHING"
    ),
}


def _claim_ids(session: Session, stream_id: int, partition_id: int, ids: list[str]) -> set[str]:
    """Insert the ids not committed before, in one statement; returns the ones committed before.

    The database, not an earlier read, decides what is new; only when some ids clash (after
    a redelivery) are the new ones read back to tell them apart.
    """
    dialect = session.get_bind().dialect.name
    values: object = ids if dialect == "postgresql" else orjson.dumps(ids).decode()
    parameters = {"stream_id": stream_id, "partition_id": partition_id, "ids": values}
    inserted = session.execute(_CLAIM_IDS[dialect], parameters).rowcount  # type: ignore[attr-defined]
    if inserted == len(ids):
        return set()
    fresh = session.scalars(
        sa.select(st.StreamRecordId.record_id).where(
            st.StreamRecordId.stream_id == stream_id,
            st.StreamRecordId.partition_id == partition_id,
        )
    )
    return set(ids).difference(fresh)


def commit_buffer(
    platform: Platform, stream: LoadedStream, buffer: RecordBuffer, principal: str = "system"
) -> CommitResult:
    """Commit what ``buffer`` holds; the caller acknowledges the broker only after this returns.

    A clash with a concurrent writer (say, a new version of the same dataset) rolls the
    transaction back; it is then tried again from the start.
    """
    for attempt in range(_ATTEMPTS):
        try:
            with platform.db.session() as session:
                return _commit(session, platform, stream, buffer, principal)
        except Conflict:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _commit(
    session: Session,
    platform: Platform,
    stream: LoadedStream,
    buffer: RecordBuffer,
    principal: str,
) -> CommitResult:
    now = utcnow()
    # The first write takes the stream's lock (a row lock; SQLite's write lock) for the rest.
    session.execute(
        sa.update(st.Stream).where(st.Stream.id == stream.stream_id).values(last_commit_at=now)
    )
    before = session.scalar(
        sa.select(st.Stream.committed_records).where(st.Stream.id == stream.stream_id)
    )
    rejected = store_rejections(session, stream.stream_id, buffer.rejections, now)
    _record_offsets(session, stream.stream_id, buffer.offsets(), now)
    partition = _new_partition(session, stream, buffer, now) if buffer.rows or rejected else None
    known: set[str] = set()
    if buffer.rows and partition is not None:
        known = _claim_ids(session, stream.stream_id, partition.id, buffer.ids)
    table = buffer.table(known)
    duplicates = buffer.duplicates + len(known)
    info: StreamCommitInfo | None = None
    if partition is not None and (table.num_rows or rejected):
        if table.num_rows:
            data = write_parquet_bytes(table)
            partition.digest = platform.blobs.put_bytes(data)
            partition.size_bytes = len(data)
            partition.rows = table.num_rows
            partition.dataset_version = register_partition(
                session, platform.blobs, stream, partition, table, principal
            )
        partition.rejected, partition.duplicates = rejected, duplicates
        partition.records_through = (before or 0) + table.num_rows
        partition.created_at = utcnow()
        session.flush()
        info = commit_info(stream.name, partition)
    elif partition is not None:
        session.delete(partition)
    if buffer.rows:
        prune_record_ids(
            session, stream.stream_id, stream.spec, now, (before or 0) + table.num_rows
        )
    session.execute(
        sa.update(st.Stream)
        .where(st.Stream.id == stream.stream_id)
        .values(
            commits=st.Stream.commits + (1 if info else 0),
            committed_records=st.Stream.committed_records + table.num_rows,
            rejected_records=st.Stream.rejected_records + rejected,
            duplicate_records=st.Stream.duplicate_records + duplicates,
        )
    )
    return CommitResult(
        table.num_rows, rejected, duplicates, info, table if table.num_rows else None
    )


def _new_partition(
    session: Session, stream: LoadedStream, buffer: RecordBuffer, now: datetime
) -> st.StreamPartition:
    seq = (
        session.scalar(
            sa.select(sa.func.max(st.StreamPartition.seq)).where(
                st.StreamPartition.stream_id == stream.stream_id
            )
        )
        or 0
    ) + 1
    spans = list(buffer.offsets().values())
    partition = st.StreamPartition(
        stream_id=stream.stream_id,
        seq=seq,
        stream_version=stream.version,
        dataset=stream.spec.dataset,
        first_offset=spans[0][0] if spans else "",
        last_offset=spans[-1][1] if spans else "",
        created_at=now,
    )
    session.add(partition)
    session.flush()
    return partition


def commit_info(name: str, row: st.StreamPartition) -> StreamCommitInfo:
    return StreamCommitInfo(
        stream=name,
        seq=row.seq,
        dataset=row.dataset,
        dataset_version=row.dataset_version,
        digest=row.digest,
        rows=row.rows,
        rejected=row.rejected,
        duplicates=row.duplicates,
        size_bytes=row.size_bytes,
        first_offset=row.first_offset,
        last_offset=row.last_offset,
        created_at=row.created_at,
    )


def store_rejections(
    session: Session, stream_id: int, rejections: list[RejectedMessage], now: datetime
) -> int:
    """Keep refused records with their reasons; one delivered again is stored (and counted) once."""
    rows = [
        {
            "stream_id": stream_id,
            "source": r.source,
            "offset": r.offset,
            "reason": r.reason,
            "excerpt": r.excerpt,
            "created_at": now,
        }
        for r in rejections
    ]
    return len(_insert_new(session, _REJECTIONS, rows, _REJECTIONS.c.id))


def _record_offsets(
    session: Session, stream_id: int, offsets: dict[str, tuple[str, str]], now: datetime
) -> None:
    for source, (_first, last) in offsets.items():
        updated = session.execute(
            sa.update(st.StreamOffset)
            .where(st.StreamOffset.stream_id == stream_id, st.StreamOffset.source == source)
            .values(offset=last, updated_at=now)
        )
        if not updated.rowcount:  # type: ignore[attr-defined]
            session.add(st.StreamOffset(stream_id=stream_id, source=source, offset=last))
