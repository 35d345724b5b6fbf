"""Partitioned and streamed dataset versions: layout, digests, reading back, S3, bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from tests.conftest import LiveServer

from shipyard import datasets
from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.data import normalize_table, profile_table, write_parquet_bytes
from shipyard.datasets import _file_batches as file_batches
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for, issue_admin_key_if_none
from shipyard.store.metadata import transform_tables as tt

CSV = "id,city,amount\n1,Paris,10.5\n2,Oslo,\n3,Paris,7.25\n4,,1.0\n"


def _table(rows: int = 5_000) -> pa.Table:
    rng = np.random.default_rng(7)
    return normalize_table(
        pa.table(
            {
                "id": np.arange(rows),
                "city": rng.choice(np.array(["Paris", "Oslo", "Rome"], dtype=object), rows),
                "amount": rng.normal(100, 15, rows),
                "day": pa.array((np.arange(rows) % 40).astype("datetime64[D]")),
            }
        )
    )


def test_ingest_partitioned_by_a_column(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text(CSV)
    info = client.datasets.ingest(path, "sales", partition_by="city")
    assert (info.version, info.rows, info.created) == (1, 4, True)
    assert info.profile["partitioning"] == {"columns": ["city"], "partitions": 3}
    assert info.profile["method"]["kind"] == "streaming"
    amount = next(c for c in info.profile["columns"] if c["name"] == "amount")
    assert (amount["nulls"], amount["min"], amount["max"]) == (1, 1.0, 10.5)
    assert [c["name"] for c in info.columns] == ["id", "city", "amount"]

    again = client.datasets.ingest(path, "sales", partition_by="city")
    assert (again.version, again.digest, again.created) == (1, info.digest, False)
    unpartitioned = client.datasets.ingest(path, "sales")
    assert unpartitioned.version == 2 and unpartitioned.digest != info.digest

    head = client.datasets.head("sales@1", rows=10)
    assert sorted(r["id"] for r in head.rows) == [1, 2, 3, 4]
    with pytest.raises(InvalidInput) as caught:
        client.datasets.ingest(path, "sales", partition_by="country")
    assert caught.value.field == "partition_by"
    with pytest.raises(InvalidInput) as caught:
        client.datasets.ingest(path, "sales", partition_by="amount")
    assert caught.value.field == "partition_by"
    assert [v.version for v in client.datasets.versions("sales")] == [1, 2]


def _local_platform(tmp_path: Path, **settings: Any) -> Platform:
    platform = Platform.open(Settings(home=tmp_path / "home", **settings))
    bootstrap(platform)
    return platform


def test_batches_give_the_in_memory_bytes_and_profile(tmp_path: Path) -> None:
    platform = _local_platform(tmp_path)
    ctx = context_for(platform, "admin")
    table = _table()
    info = datasets.write_version_from_batches(
        ctx, "big", table.to_batches(max_chunksize=777), source="test"
    )
    expected = "sha256:" + hashlib.sha256(write_parquet_bytes(table)).hexdigest()
    assert info.digest == expected
    exact = profile_table(table).model_dump(mode="json")
    streamed = info.profile
    assert streamed["method"]["approximate"] == {}
    for want, got in zip(exact["columns"], streamed["columns"], strict=True):
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-12), (want["name"], key)
            elif key == "quantiles" and value is not None:
                assert got[key] == pytest.approx(value, rel=1e-12)
            else:
                assert got[key] == value, (want["name"], key)
    platform.close()


def test_partitions_are_stored_read_and_deduplicated(tmp_path: Path) -> None:
    platform = _local_platform(tmp_path)
    ctx = context_for(platform, "admin")
    table = _table()
    first = datasets.write_version_from_batches(
        ctx, "days", table.to_batches(max_chunksize=1000), partition_by=["city"]
    )
    other_batching = datasets.write_version_from_batches(
        ctx, "days", table.to_batches(max_chunksize=333), partition_by=["city"]
    )
    assert (other_batching.version, other_batching.created) == (1, False)
    with platform.db.session() as session:
        row = datasets.find_version(session, "days", 1)
        files = datasets.version_files(session, row)
        stored = session.scalars(
            sa.select(tt.DatasetPartition).where(tt.DatasetPartition.dataset_version_id == row.id)
        ).all()
    assert [f.values for f in files] == [{"city": "Oslo"}, {"city": "Paris"}, {"city": "Rome"}]
    assert sum(f.rows for f in files) == first.rows == table.num_rows
    assert len(stored) == 3
    manifest = platform.blobs.get_bytes(first.digest)
    assert b"shipyard.partitions/1" in manifest

    loaded = datasets.load_version_table(platform, row).sort_by("id")
    assert loaded.equals(table)
    streamed = list(datasets.iter_version_batches(platform, row, ["id", "city"], batch_size=500))
    assert all(b.num_rows <= 500 for b in streamed)
    assert pa.Table.from_batches(streamed).num_rows == table.num_rows
    assert pa.Table.from_batches(streamed).column_names == ["id", "city"]
    with pytest.raises(InvalidInput) as caught:
        next(datasets.iter_version_batches(platform, row, ["nope"]))
    assert caught.value.field == "columns"

    downloaded = datasets.download_version_files(platform, row, tmp_path / "parts")
    assert pq.read_table(downloaded).num_rows == table.num_rows
    platform.close()


def test_batches_with_another_schema_are_refused(tmp_path: Path) -> None:
    platform = _local_platform(tmp_path)
    ctx = context_for(platform, "admin")
    good = pa.record_batch({"a": [1, 2]})
    bad = pa.record_batch({"b": ["x"]})
    with pytest.raises(InvalidInput) as caught:
        datasets.write_version_from_batches(ctx, "mixed", [good, bad])
    assert caught.value.field == "batches"
    with pytest.raises(InvalidInput):
        datasets.write_version_from_batches(ctx, "nothing", [])
    empty = pa.RecordBatchReader.from_batches(pa.schema([("a", pa.int64())]), [])
    info = datasets.write_version_from_batches(ctx, "empty", empty, partition_by=["a"])
    assert (info.rows, [c["name"] for c in info.columns]) == (0, ["a"])
    with platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(tt.DatasetPartition)) == 0
    assert datasets.head(ctx, "empty").rows == []
    platform.close()


def test_large_files_stream_and_widen_csv_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = _local_platform(tmp_path, ingest_in_memory_max_bytes=0)
    ctx = context_for(platform, "admin")
    monkeypatch.setattr(file_batches, "BLOCK_BYTES", 64 * 1024)
    # The first block shows integers only; the last row needs a float, text, and text.
    body = "".join(f"{i},{i % 7},\n" for i in range(40_000))
    path = tmp_path / "wide.csv"
    path.write_text("id,k,note\n" + body + "1.5,x,late\n")
    info = datasets.ingest(ctx, "wide", path)
    types = {c["name"]: c["arrow_type"] for c in info.columns}
    assert types == {"id": "double", "k": "string", "note": "string"}
    assert info.rows == 40_001
    assert info.profile["method"]["kind"] == "streaming"
    note = next(c for c in info.profile["columns"] if c["name"] == "note")
    assert (note["nulls"], note["top_values"]) == (40_000, [{"value": "late", "count": 1}])

    parquet = tmp_path / "t.parquet"
    pq.write_table(_table(), parquet, row_group_size=1000)
    streamed = datasets.ingest(ctx, "pq", parquet)
    assert streamed.digest == "sha256:" + hashlib.sha256(write_parquet_bytes(_table())).hexdigest()

    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(InvalidInput) as caught:
        datasets.ingest(ctx, "bad", tmp_path / "bad.csv")
    assert caught.value.field == "file" and "malformed CSV" in caught.value.message
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(InvalidInput, match="no rows"):
        datasets.ingest(ctx, "bad", tmp_path / "header.csv")
    assert [d.name for d in datasets.list_datasets(ctx).items] == ["pq", "wide"]
    platform.close()


@pytest.mark.s3
def test_partitioned_dataset_on_s3(
    tmp_path: Path, s3_storage_options: dict[str, Any], s3_client: Any
) -> None:
    platform = _local_platform(
        tmp_path,
        blob_url=s3_storage_options["url"],
        blob_storage_options=s3_storage_options["storage_options"],
    )
    ctx = context_for(platform, "admin")
    path = tmp_path / "sales.csv"
    path.write_text(CSV)
    info = datasets.ingest(ctx, "sales", path, partition_by="city")
    bucket = s3_storage_options["url"].removeprefix("s3://").split("/")[0]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 4  # three partitions and the manifest
    assert any(k.endswith(info.digest.removeprefix("sha256:")) for k in keys)
    with platform.db.session() as session:
        row = datasets.find_version(session, "sales", 1)
    table = pa.Table.from_batches(list(datasets.iter_version_batches(platform, row)))
    assert sorted(table.column("id").to_pylist()) == [1, 2, 3, 4]
    assert datasets.load_version_table(platform, row).num_rows == 4
    platform.close()


def test_http_uploads_are_spooled_to_disk_and_streamed(tmp_path: Path) -> None:
    platform = _local_platform(tmp_path, ingest_in_memory_max_bytes=16, max_upload_bytes=4096)
    key = issue_admin_key_if_none(platform)
    assert key is not None
    live = LiveServer(create_app(platform))
    try:
        sdk = Client(transport=HttpTransport(live.url, key.token))
        path = tmp_path / "sales.csv"
        path.write_text(CSV)
        info = sdk.datasets.ingest(path, "sales")
        assert info.profile["method"]["kind"] == "streaming"  # larger than 16 bytes
        assert sorted(r["id"] for r in sdk.datasets.head("sales").rows) == [1, 2, 3, 4]
        path.write_text(CSV + "9,Rome,1.0\n" * 400)
        with pytest.raises(InvalidInput) as caught:
            sdk.datasets.ingest(path, "sales")
        assert caught.value.field == "body"
        assert not list((tmp_path / "home" / "tmp").glob("upload-*"))
        sdk.close()
    finally:
        live.close()
        platform.close()
