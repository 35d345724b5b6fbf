"""The dedupe window: forget committed record ids once their commit is old enough.

Ids are pruned whole commits at a time, in the commit transaction, by two indexed lookups
(the newest commit outside the window by age, and by count) and one indexed range delete;
a commit with nothing to forget costs two index probes. A commit is outside the window
when it is older than ``dedupe_window_seconds`` or when at least ``dedupe_window_records``
records were committed after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.schemas.streams import StreamSpec
from shipyard.store.metadata import stream_tables as st


def prune_record_ids(
    session: Session, stream_id: int, spec: StreamSpec, now: datetime, committed: int
) -> int:
    """Delete the ids of commits outside the window; ``committed`` is the stream's total.

    Returns how many ids were forgotten.
    """
    cutoffs: list[int] = []
    partitions = st.StreamPartition
    if spec.dedupe_window_seconds is not None:
        oldest = now - timedelta(seconds=spec.dedupe_window_seconds)
        by_age = session.scalar(
            sa.select(partitions.id)
            .where(partitions.stream_id == stream_id, partitions.created_at < oldest)
            .order_by(partitions.created_at.desc())
            .limit(1)
        )
        if by_age is not None:
            cutoffs.append(by_age)
    if spec.dedupe_window_records is not None and committed > spec.dedupe_window_records:
        by_count = session.scalar(
            sa.select(partitions.id)
            .where(
                partitions.stream_id == stream_id,
                partitions.records_through <= committed - spec.dedupe_window_records,
            )
            .order_by(partitions.records_through.desc(), partitions.id.desc())
            .limit(1)
        )
        if by_count is not None:
            cutoffs.append(by_count)
    if not cutoffs:
        return 0
    deleted = session.execute(
        sa.delete(st.StreamRecordId).where(
            st.StreamRecordId.stream_id == stream_id,
            st.StreamRecordId.partition_id <= max(cutoffs),
        )
    )
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]
