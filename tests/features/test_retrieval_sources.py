"""Retrieval reads source versions from the blob store in place: partitions, ties, corruption."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.features.conftest import at

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.data import read_parquet_bytes
from shipyard.errors import IntegrityError, NotFound
from shipyard.store.blobs import LocalBlobStore, blob_key, open_blob_store

STAMP = pa.timestamp("us")


def _write(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def _stored(settings: Settings, digest: str) -> pa.Table:
    return read_parquet_bytes(
        open_blob_store(settings.blobs_url, encryption=settings.blob_encryption).get_bytes(digest)
    )


@pytest.fixture
def sources(client: Client, tmp_path: Path) -> Client:
    """A source with ties (same driver, same time) stored plain and partitioned by city."""
    table = pa.table(
        {
            "driver_id": [1, 2, 1, 1, 2],
            "city": ["Oslo", "Rome", "Rome", "Lima", "Oslo"],
            "ts": pa.array([at(1), at(1), at(2), at(2), at(3)], STAMP),
            "rate": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    client.datasets.ingest(_write(tmp_path / "plain.parquet", table), "plain")
    client.datasets.ingest(_write(tmp_path / "split.parquet", table), "split", partition_by="city")
    entities = pa.table(
        {
            "driver_id": [1, 2, 1, 3],
            "event_timestamp": pa.array([at(2, 6), at(2), at(9), at(5)], STAMP),
            "label": [1, 0, 1, 0],
        }
    )
    client.datasets.ingest(_write(tmp_path / "rows.parquet", entities), "rows")
    client.features.apply(
        [
            {
                "name": name,
                "source": name,
                "entities": ["driver_id"],
                "event_time": "ts",
                "features": ["rate"],
                "ttl": 3 * 86_400,
            }
            for name in ("plain", "split")
        ]
    )
    return client


def test_partitioned_source_and_ties_give_one_reproducible_answer(
    sources: Client, settings: Settings
) -> None:
    plain = sources.features.get_historical_features("rows", ["plain"], "train")
    again = sources.features.get_historical_features("rows", ["plain"], "train")
    assert again.digest == plain.digest and again.created is False
    table = _stored(settings, plain.digest)
    # Driver 1 has two rows at day 2 (Rome 3.0, then Lima 4.0): the one stored last wins.
    assert table.column("plain__rate").to_pylist() == [4.0, 2.0, None, None]
    assert table.column("label").to_pylist() == [1, 0, 1, 0]
    split = sources.features.get_historical_features("rows", ["split"], "train-split")
    # Partitions are stored in city order (Lima, Oslo, Rome): Rome's row is now the last.
    assert _stored(settings, split.digest).column("split__rate").to_pylist() == [
        3.0,
        2.0,
        None,
        None,
    ]


def test_a_corrupt_source_blob_fails_the_retrieval_and_writes_nothing(
    sources: Client, settings: Settings
) -> None:
    blobs = open_blob_store(settings.blobs_url, encryption=settings.blob_encryption)
    assert isinstance(blobs, LocalBlobStore)
    path = blobs.root / blob_key(sources.datasets.get("plain").digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the data pages
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="corrupt"):
        sources.features.get_historical_features("rows", ["plain"], "broken")
    with pytest.raises(NotFound):
        sources.datasets.get("broken")
