"""Erasure by key and deletes: real metadata (SQLite, PostgreSQL), real blobs (local, S3),
encryption on; afterwards no stored object holds an erased row, and lineage keeps
tombstones."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from shipyard import errors
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.datasets._erasure import values_hash
from shipyard.platform import Platform
from shipyard.security import ADMIN, bootstrap
from shipyard.store.metadata import endpoint_tables, erasure_tables
from shipyard.store.metadata import tables as t


def _file(directory: Path, ids: range) -> Path:
    path = directory / f"rows-{ids.start}-{ids.stop}.csv"
    path.write_bytes(_csv(ids))
    return path


def _csv(ids: range) -> bytes:
    table = pa.table(
        {
            "customer_id": list(ids),
            "email": [f"subject-{i}@example.test" for i in ids],
            "region": ["north" if i % 2 else "south" for i in ids],
            "spend": [float(i) * 1.5 for i in ids],
        }
    )
    sink = io.BytesIO()
    pacsv.write_csv(table, sink)
    return sink.getvalue()


@pytest.fixture(
    params=[
        ("sqlite", "local"),
        ("postgres", "local"),
        pytest.param(("sqlite", "s3"), marks=pytest.mark.s3),
    ],
    ids=["sqlite-local", "postgres-local", "sqlite-s3"],
)
def home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    """An embedded client on a fresh home (encryption on by default)."""
    database, blobs = request.param
    extra: dict[str, Any] = {}
    if database == "postgres":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    if blobs == "s3":
        options = request.getfixturevalue("s3_storage_options")
        extra["blob_url"] = options["url"]
        extra["blob_storage_options"] = options["storage_options"]
    settings = Settings(home=tmp_path / "home", key_cache_seconds=0.2, **extra)
    platform = Platform.open(settings)
    bootstrap(platform)
    platform.close()
    client = Client(settings=settings)
    yield client
    client.close()


def _platform(client: Client) -> Platform:
    platform = client.transport.platform  # type: ignore[attr-defined]
    assert isinstance(platform, Platform)
    return platform


def _stored_texts(platform: Platform) -> list[tuple[str, bytes, list[str]]]:
    """Every blob, decrypted, with the string cells of it if it is Parquet."""
    found = []
    for digest in platform.blobs.digests():
        data = platform.blobs.get_bytes(digest)
        cells: list[str] = []
        if data.startswith(b"PAR1"):
            table = pq.read_table(pa.BufferReader(data))
            for column in table.columns:
                cells += [str(v) for v in column.to_pylist()]
        found.append((digest, data, cells))
    return found


def _holding(platform: Platform, needle: str) -> list[str]:
    return [
        digest
        for digest, data, cells in _stored_texts(platform)
        if needle.encode() in data or any(needle in cell for cell in cells)
    ]


def test_erase_rewrites_every_version_and_purges_the_old_files(
    home: Client, tmp_path: Path
) -> None:
    client, platform = home, _platform(home)
    client.datasets.ingest(_file(tmp_path, range(1, 51)), "customers")
    client.datasets.ingest(_file(tmp_path, range(1, 61)), "customers")
    client.datasets.ingest(_file(tmp_path, range(1, 71)), "customers", partition_by="region")
    client.datasets.ingest(_file(tmp_path, range(100, 110)), "others")
    before = {v.version: v for v in client.datasets.versions("customers")}
    assert _holding(platform, "subject-17@example.test")  # the scan finds what is there

    done = client.datasets.erase(
        "customers", key="customer_id", values=["17", "42"], reason="DSR-1001"
    )

    assert [(v.version, v.rows_removed) for v in done.versions] == [(1, 2), (2, 2), (3, 2)]
    assert done.rows_removed == 6 and done.value_count == 2 and done.purged_blobs >= 4
    after = {v.version: v for v in client.datasets.versions("customers")}
    for number in (1, 2, 3):
        assert after[number].rows == before[number].rows - 2
        assert after[number].digest != before[number].digest
        assert after[number].erasure_id == done.id
        rows = client.datasets.read(f"customers@{number}").to_pylist()
        assert {17, 42}.isdisjoint(r["customer_id"] for r in rows)
        assert 18 in {r["customer_id"] for r in rows}
        assert not platform.blobs.exists(before[number].digest)
    for needle in ("subject-17@example.test", "subject-42@example.test"):
        assert _holding(platform, needle) == []
    assert _holding(platform, "subject-18@example.test")  # the rest stays
    # the profile was recomputed from the rows left
    assert after[1].profile["rows"] == 48
    email = next(c for c in after[3].profile["columns"] if c["name"] == "email")
    assert "subject-17@example.test" not in repr(email)  # top values, min, max

    with platform.db.session() as session:
        stored = session.scalars(sa.select(erasure_tables.ErasureRequest)).one()
        assert stored.values_hash == values_hash(stored.salt, ["17", "42"])
        assert stored.requested_by == ADMIN and stored.reason == "DSR-1001"
        event = session.scalars(
            sa.select(t.AuditEvent).where(t.AuditEvent.action == "datasets:EraseRows")
        ).one()
        assert event.outcome == "succeeded"
        assert event.detail["values"] == 2 and event.detail["reason"] == "DSR-1001"
        text = repr(event.detail) + repr(stored.versions)
        assert "subject-17" not in text and "'17'" not in text
    listed = client.datasets.erasures("customers")
    assert [e.id for e in listed] == [done.id]
    # erasing again finds nothing left to remove
    again = client.datasets.erase("customers", key="customer_id", values=[17], reason="DSR-1001")
    assert again.rows_removed == 0 and again.versions == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"key": "no_such", "values": ["1"], "reason": "r"}, "key"),
        ({"key": "customer_id", "values": [], "reason": "r"}, "values"),
        ({"key": "customer_id", "values": ["x"], "reason": "r"}, "values"),
        ({"key": "customer_id", "values": ["1"], "reason": "  "}, "reason"),
    ],
)
def test_bad_erasure_requests_name_the_field_and_change_nothing(
    client: Client, arguments: dict[str, Any], field: str, tmp_path: Path
) -> None:
    client.datasets.ingest(_file(tmp_path, range(1, 11)), "people")
    before = client.datasets.versions("people")
    with pytest.raises(errors.InvalidInput) as raised:
        client.datasets.erase("people", **arguments)
    assert raised.value.field == field
    assert client.datasets.versions("people") == before
    assert client.datasets.erasures("people") == []


def test_erasure_refuses_a_file_another_dataset_holds(home: Client, tmp_path: Path) -> None:
    client, platform = home, _platform(home)
    client.datasets.ingest(_file(tmp_path, range(1, 11)), "a")
    client.datasets.ingest(_file(tmp_path, range(1, 11)), "b")
    with pytest.raises(errors.Conflict, match="dataset b@1"):
        client.datasets.erase("a", key="customer_id", values=["3"], reason="DSR-2")
    assert client.datasets.get("a@1").rows == 10
    assert _holding(platform, "subject-3@example.test")


def test_delete_keeps_a_tombstone_in_lineage_and_purges_the_files(
    home: Client, tmp_path: Path
) -> None:
    client, platform = home, _platform(home)
    first = client.datasets.ingest(_file(tmp_path, range(1, 21)), "bc")
    client.datasets.ingest(_file(tmp_path, range(1, 31)), "bc")
    run_id = client.transport.call("tracking.create_run", experiment="exp")["id"]
    with platform.db.session() as session:
        version_id = session.scalar(
            sa.select(t.DatasetVersion.id).where(t.DatasetVersion.digest == first.digest)
        )
        session.add(t.RunInput(run_id=run_id, dataset_version_id=version_id))

    with pytest.raises(errors.InvalidInput) as raised:
        client.datasets.delete("bc@1", reason="")
    assert raised.value.field == "reason"
    done = client.datasets.delete("bc@1", reason="retention policy")

    assert done.deleted == ["bc@1"] and done.purged_blobs == 1
    assert not platform.blobs.exists(first.digest)
    with pytest.raises(errors.NotFound, match=r"deleted on .* by admin: retention policy"):
        client.datasets.get("bc@1")
    assert client.datasets.get("bc").version == 2
    graph = client.models.lineage(run_id, kind="run")
    node = next(n for n in graph.nodes if n.kind == "dataset")
    assert node.label == "bc@1" and node.deleted is not None
    assert "by admin: retention policy" in node.deleted
    dataset_graph = client.models.lineage("bc@1", kind="dataset")
    assert dataset_graph.nodes[0].deleted is not None
    # the same content ingested again is a new version, not the tombstone
    assert client.datasets.ingest(_file(tmp_path, range(1, 21)), "bc").version == 3
    # deleting the whole dataset tombstones every live version
    whole = client.datasets.delete("bc", reason="gone")
    assert whole.deleted == ["bc@2", "bc@3"]
    with pytest.raises(errors.NotFound):
        client.datasets.get("bc")


def test_delete_keeps_a_blob_another_dataset_holds(home: Client, tmp_path: Path) -> None:
    client, platform = home, _platform(home)
    kept = client.datasets.ingest(_file(tmp_path, range(1, 11)), "x")
    client.datasets.ingest(_file(tmp_path, range(1, 11)), "y")
    done = client.datasets.delete("x", reason="dup")
    assert done.purged_blobs == 0 and "dataset y@1" in done.kept_blobs[0]
    assert platform.blobs.exists(kept.digest)
    assert client.datasets.read("y").num_rows == 10


def test_delete_captures_before_a_time(home: Client, tmp_path: Path) -> None:
    client, platform = home, _platform(home)
    digests = {}
    with platform.db.session() as session:
        for hour in ("2026-11-01T10", "2026-11-02T10", "2026-12-01T10"):
            data = pa.table({"request": [f"captured {hour}"]})
            sink = pa.BufferOutputStream()
            pq.write_table(data, sink)
            digest = platform.blobs.put_bytes(sink.getvalue().to_pybytes())
            digests[hour] = digest
            session.add(
                endpoint_tables.CaptureFile(endpoint="ep", hour=hour, digest=digest, rows=1)
            )
    done = client.endpoints.delete_captures(
        "ep", before=datetime(2026, 11, 15, tzinfo=UTC), reason="retention 30d"
    )
    assert done.deleted == ["capture ep 2026-11-01T10", "capture ep 2026-11-02T10"]
    assert done.purged_blobs == 2
    assert not platform.blobs.exists(digests["2026-11-01T10"])
    assert platform.blobs.exists(digests["2026-12-01T10"])
    with platform.db.session() as session:
        left = session.scalars(sa.select(endpoint_tables.CaptureFile.hour)).all()
    assert left == ["2026-12-01T10"]
