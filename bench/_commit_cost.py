"""The streaming bench's commit-cost part: does the thousandth commit cost what the first did?

Each stream commit registers a dataset version. This times ``commit_buffer`` (claim ids,
write the Parquet partition, register the version, prune the dedupe window) for many small
commits in a row, in-process, and reports the median around commit #1, #10, #100, #1000.
For comparison it times, at the same commit numbers, the work the previous design added
to every commit: copying the parent version's whole partition list (one row per earlier
commit, and a manifest naming every file) into the new version.
"""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt
from shipyard.streams import Message, RecordBuffer, RecordSchema, StreamSpec, commit_buffer
from shipyard.streams import create_stream as create
from shipyard.streams._service import load_stream

SCHEMA = {"id": "integer", "user": "string", "amount": "float"}
WINDOW = 20


def _buffer(schema: RecordSchema, first: int, size: int) -> RecordBuffer:
    buffer = RecordBuffer(schema)
    buffer.extend(
        [
            Message(
                offset=str(i),
                partition="p0",
                key=None,
                value=orjson.dumps({"id": i, "user": f"u{i % 100}", "amount": i * 0.5}),
            )
            for i in range(first, first + size)
        ]
    )
    return buffer


def commit_times(root: Path, database_url: str | None, commits: int, size: int) -> list[float]:
    """Seconds of each of ``commits`` commits of ``size`` records, in order."""
    platform = Platform.open(Settings(home=root / uuid.uuid4().hex[:8], database_url=database_url))
    bootstrap(platform)
    name = f"cost{uuid.uuid4().hex[:6]}"
    spec = {"name": name, "schema": SCHEMA, "id_field": "id", "commit_every_records": size}
    create(context_for(platform, "admin"), StreamSpec.model_validate(spec))
    with platform.db.session() as session:
        stream = load_stream(session, name)
    schema = RecordSchema(stream.spec)
    times = []
    for n in range(commits):
        buffer = _buffer(schema, n * size, size)
        began = time.perf_counter()
        result = commit_buffer(platform, stream, buffer)
        times.append(time.perf_counter() - began)
        assert result.rows == size
    platform.close()
    return times


def list_copy_seconds(root: Path, database_url: str | None, at: list[int]) -> dict[int, float]:
    """Median seconds the previous design spent copying the partition list at commit #n."""
    platform = Platform.open(Settings(home=root / uuid.uuid4().hex[:8], database_url=database_url))
    found: dict[int, float] = {}
    with platform.db.session() as session:
        dataset = t.Dataset(name=f"copy{uuid.uuid4().hex[:6]}")
        session.add(dataset)
        session.flush()
        dataset_id = dataset.id
    version = 0
    for n in at:
        samples = []
        for _ in range(WINDOW):
            version += 1
            with platform.db.session() as session:
                parent = _version(session, dataset_id, version)
                if n > 1:
                    session.execute(
                        sa.insert(tt.DatasetPartition),
                        [_part(parent.id, i) for i in range(n - 1)],
                    )
            version += 1
            began = time.perf_counter()
            with platform.db.session() as session:
                files = session.execute(
                    sa.select(tt.DatasetPartition.digest, tt.DatasetPartition.rows)
                    .where(tt.DatasetPartition.dataset_version_id == parent.id)
                    .order_by(tt.DatasetPartition.ordinal)
                ).all()
                listed = [{"digest": d, "rows": r, "values": {}} for d, r in files]
                listed.append({"digest": "sha256:" + "1" * 64, "rows": 1, "values": {}})
                manifest = orjson.dumps({"partitions": listed}, option=orjson.OPT_SORT_KEYS)
                platform.blobs.put_bytes(manifest)
                row = _version(session, dataset_id, version)
                session.execute(
                    sa.insert(tt.DatasetPartition), [_part(row.id, i) for i in range(n)]
                )
            samples.append(time.perf_counter() - began)
        found[n] = statistics.median(samples)
    platform.close()
    return found


def _version(session: Session, dataset_id: int, version: int) -> t.DatasetVersion:
    row = t.DatasetVersion(
        dataset_id=dataset_id,
        version=version,
        digest=f"sha256:{uuid.uuid4().hex}",
        size_bytes=0,
        rows=0,
        schema=[],
        profile={},
        created_by="bench",
    )
    session.add(row)
    session.flush()
    return row


def _part(version_id: int, ordinal: int) -> dict[str, object]:
    return {
        "dataset_version_id": version_id,
        "ordinal": ordinal,
        "partition_values": {},
        "digest": "sha256:" + "0" * 64,
        "rows": 100,
        "size_bytes": 4_000,
    }


def marks(commits: int) -> list[int]:
    """Commit numbers to report: 1, 10, 100, 1000 ... up to ``commits``."""
    found, n = [], 1
    while n <= commits:
        found.append(n)
        n *= 10
    if found[-1] != commits:
        found.append(commits)
    return found


def around(times: list[float], n: int) -> float:
    """Median of the commits around commit #n (1-based)."""
    low = max(0, min(n - 1, len(times) - WINDOW))
    return statistics.median(times[low : low + WINDOW])


def print_table(
    root: Path, databases: list[tuple[str, str | None]], commits: int, size: int
) -> None:
    print(
        f"\ncommit cost as commits pile up: {commits:,} commits of {size} records each, "
        f"median of {WINDOW} commits around each mark\n"
    )
    points = marks(commits)
    head = " | ".join(f"#{n:,}" for n in points)
    base = points[1] if len(points) > 2 else points[0]
    print(f"| path | {head} | #{points[-1]:,} / #{base:,} |")
    print("|---|" + "---:|" * (len(points) + 1))
    rates = []
    for label, url in databases:
        times = commit_times(root, url, commits, size)
        cost = [around(times, n) for n in points]
        cells = " | ".join(f"{c * 1000:.1f} ms" for c in cost)
        print(f"| commit, {label} (append versions) | {cells} | {_ratio(cost):.2f}x |")
        copied = list_copy_seconds(root, url, points)
        cells = " | ".join(f"{copied[n] * 1000:.1f} ms" for n in points)
        ratio = _ratio([copied[n] for n in points])
        print(f"| list copy the previous design added, {label} | {cells} | {ratio:.1f}x |")
        rates.append((label, size * len(times) / sum(times)))
    for label, rate in rates:
        print(f"\nrecords/s over all {commits:,} commits in a row, {label}: {rate:,.0f}")


def _ratio(costs: list[float]) -> float:
    """Last mark over the #10 mark (the first mark is warm-up: caches, the first version)."""
    return costs[-1] / costs[1 if len(costs) > 2 else 0]
