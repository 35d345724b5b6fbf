"""Stream commits as append versions, and the dedupe window that bounds the committed ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson
import pyarrow as pa
import pytest
import sqlalchemy as sa
from streamkit import record, spec

from shipyard import datasets
from shipyard.client import Client
from shipyard.clock import utcnow
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import stream_tables as st
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt
from shipyard.streams import (
    CommitResult,
    Message,
    RecordBuffer,
    RecordSchema,
    StreamSpec,
    commit_buffer,
    create_stream,
)
from shipyard.streams._service import load_stream


def _commit(platform: Platform, name: str, records: Sequence[dict[str, Any]]) -> CommitResult:
    """One commit of ``records``, as a consumer makes it after a poll."""
    with platform.db.session() as session:
        stream = load_stream(session, name)
    buffer = RecordBuffer(RecordSchema(stream.spec))
    buffer.extend(
        [
            Message(offset=str(r["id"]), partition="p0", key=None, value=orjson.dumps(r))
            for r in records
        ]
    )
    return commit_buffer(platform, stream, buffer)


def _version_ids(platform: Platform, name: str, version: int) -> list[int]:
    with platform.db.session() as session:
        row = datasets.find_version(session, name, version)
    return [
        i for b in datasets.iter_version_batches(platform, row, ["id"]) for i in b[0].to_pylist()
    ]


def _remembered(platform: Platform, name: str) -> list[str]:
    with platform.db.session() as session:
        stream_id = session.scalar(sa.select(st.Stream.id).where(st.Stream.name == name))
        return sorted(
            session.scalars(
                sa.select(st.StreamRecordId.record_id).where(
                    st.StreamRecordId.stream_id == stream_id
                )
            ),
            key=int,
        )


def test_every_commit_adds_one_partition_row_and_every_version_reads_its_prefix(
    platform: Platform,
) -> None:
    create_stream(context_for(platform, "admin"), StreamSpec.model_validate(spec("taps")))
    commits = 120
    for n in range(commits):
        result = _commit(platform, "taps", [record(3 * n + k) for k in range(3)])
        assert result.info is not None and result.info.dataset_version == n + 1

    with platform.db.session() as session:
        dataset_id = session.scalar(sa.select(t.Dataset.id).where(t.Dataset.name == "taps"))
        versions = session.scalars(
            sa.select(t.DatasetVersion)
            .where(t.DatasetVersion.dataset_id == dataset_id)
            .order_by(t.DatasetVersion.version)
        ).all()
        registered = session.scalar(sa.select(sa.func.count()).select_from(tt.DatasetPartition))
        files = [datasets.version_files(session, v) for v in versions]
    # One partition row per commit, not one per (commit, earlier commit): linear, not quadratic.
    assert registered == commits
    assert [len(f) for f in files] == list(range(1, commits + 1))
    assert len({v.digest for v in versions}) == commits
    for version in versions:
        assert version.rows == 3 * version.version
        assert version.size_bytes == sum(f.size_bytes for f in files[version.version - 1])
    for version in (1, 2, 61, commits - 1, commits):
        assert _version_ids(platform, "taps", version) == list(range(3 * version))


def test_a_version_written_between_commits_is_extended_and_stays_as_it_was(
    platform: Platform,
) -> None:
    ctx = context_for(platform, "admin")
    create_stream(ctx, StreamSpec.model_validate(spec("taps")))
    _commit(platform, "taps", [record(0), record(1)])
    with platform.db.session() as session:
        first = datasets.find_version(session, "taps", 1)
    table = datasets.load_version_table(platform, first)
    other = table.set_column(0, "id", pa.array([100, 101], pa.int64()))
    written = datasets.write_version_from_batches(ctx, "taps", [other])
    assert written.version == 2
    _commit(platform, "taps", [record(2)])
    _commit(platform, "taps", [record(3)])
    assert _version_ids(platform, "taps", 2) == [100, 101]
    assert _version_ids(platform, "taps", 3) == [100, 101, 2]
    assert _version_ids(platform, "taps", 4) == [100, 101, 2, 3]
    assert _version_ids(platform, "taps", 1) == [0, 1]

    create_stream(
        ctx,
        StreamSpec.model_validate(
            spec("taps", schema={"id": "integer"}, nullable=[], key_field=None)
        ),
    )
    _commit(platform, "taps", [{"id": 9}])
    assert _version_ids(platform, "taps", 5) == [9]
    assert _version_ids(platform, "taps", 4) == [100, 101, 2, 3]


def test_the_dedupe_window_by_count_forgets_whole_old_commits(platform: Platform) -> None:
    ctx = context_for(platform, "admin")
    create_stream(ctx, StreamSpec.model_validate(spec("taps", dedupe_window_records=5)))
    for n in range(3):
        _commit(platform, "taps", [record(3 * n + k) for k in range(3)])
    # 9 committed; the first commit has 6 newer records, so its ids are forgotten.
    assert _remembered(platform, "taps") == [str(i) for i in range(3, 9)]
    again = _commit(platform, "taps", [record(0), record(4)])
    assert (again.rows, again.duplicates) == (1, 1)
    assert _version_ids(platform, "taps", 4)[-1] == 0


def test_the_dedupe_window_by_age_forgets_commits_older_than_it(platform: Platform) -> None:
    ctx = context_for(platform, "admin")
    info = create_stream(ctx, StreamSpec.model_validate(spec("taps")))
    assert info.spec.dedupe_window_seconds == 7 * 24 * 3600
    assert info.spec.dedupe_window_records is None
    create_stream(ctx, StreamSpec.model_validate(spec("taps", dedupe_window_seconds=3600)))
    _commit(platform, "taps", [record(1), record(2)])
    _commit(platform, "taps", [record(3)])
    with platform.db.session() as session:
        session.execute(
            sa.update(st.StreamPartition)
            .where(st.StreamPartition.seq == 1)
            .values(created_at=utcnow() - timedelta(hours=2))
        )
    assert _remembered(platform, "taps") == ["1", "2", "3"]
    inside = _commit(platform, "taps", [record(3), record(4)])
    assert (inside.rows, inside.duplicates) == (1, 1)
    assert _remembered(platform, "taps") == ["3", "4"]
    outside = _commit(platform, "taps", [record(1)])
    assert (outside.rows, outside.duplicates) == (1, 0)


def test_a_stream_without_a_window_remembers_every_id(platform: Platform) -> None:
    ctx = context_for(platform, "admin")
    create_stream(ctx, StreamSpec.model_validate(spec("taps", dedupe_window_seconds=None)))
    _commit(platform, "taps", [record(1)])
    with platform.db.session() as session:
        session.execute(
            sa.update(st.StreamPartition).values(created_at=utcnow() - timedelta(days=400))
        )
    assert _commit(platform, "taps", [record(1), record(2)]).duplicates == 1
    assert _remembered(platform, "taps") == ["1", "2"]


def test_the_window_is_part_of_the_spec_everywhere(client: Client) -> None:
    created = client.streams.create(spec("taps", dedupe_window_records=10_000))
    assert created.spec.dedupe_window_records == 10_000
    assert client.streams.get("taps").spec.dedupe_window_seconds == 7 * 24 * 3600
    with pytest.raises(InvalidInput, match="dedupe_window_seconds"):
        client.streams.create(spec("taps", dedupe_window_seconds=0))
    with pytest.raises(InvalidInput, match="dedupe_window_records"):
        client.streams.create(spec("taps", dedupe_window_records=0))
    assert client.streams.get("taps").version == 1
