"""Stored point-in-time indexes: built at apply, reused, rebuilt for new source content or
when their blobs are missing, corrupt or malformed, and never the cause of a wrong answer."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from tests.features.conftest import at

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.data import read_parquet_bytes
from shipyard.errors import IntegrityError, NotFound
from shipyard.platform import Platform
from shipyard.store.blobs import LocalBlobStore, blob_key, open_blob_store
from shipyard.store.metadata import feature_tables as ft

STAMP = pa.timestamp("us")
EXPECTED = [4.0, 2.0, None, None, 6.0]


def _write(path: Path, table: pa.Table) -> Path:
    pq.write_table(table, path)
    return path


def _stored(settings: Settings, digest: str) -> pa.Table:
    return read_parquet_bytes(
        open_blob_store(settings.blobs_url, encryption=settings.blob_encryption).get_bytes(digest)
    )


def _indexes(platform: Platform) -> list[tuple[int, str, str, str]]:
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(
                ft.FeatureSourceIndex.id,
                ft.FeatureSourceIndex.key,
                ft.FeatureSourceIndex.keys_blob,
                ft.FeatureSourceIndex.events_blob,
            ).order_by(ft.FeatureSourceIndex.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _blob(settings: Settings, digest: str) -> Path:
    blobs = open_blob_store(settings.blobs_url, encryption=settings.blob_encryption)
    assert isinstance(blobs, LocalBlobStore)
    return blobs.root / blob_key(digest)


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-len(data) // 3] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))


@pytest.fixture
def drivers(client: Client, tmp_path: Path) -> Client:
    """A source with ties (driver 1 twice at day 2), one view, and an entity table."""
    source = pa.table(
        {
            "driver_id": [1, 2, 1, 1, 2, 4],
            "ts": pa.array([at(1), at(1), at(2), at(2), at(3), at(4)], STAMP),
            "rate": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    client.datasets.ingest(_write(tmp_path / "drivers.parquet", source), "drivers")
    entities = pa.table(
        {
            "driver_id": [1, 2, 1, 3, 4],
            "event_timestamp": pa.array([at(2, 6), at(2), at(9), at(5), at(4)], STAMP),
        }
    )
    client.datasets.ingest(_write(tmp_path / "rows.parquet", entities), "rows")
    client.features.apply(
        [
            {
                "name": "stats",
                "source": "drivers",
                "entities": ["driver_id"],
                "event_time": "ts",
                "features": ["rate"],
                "ttl": 3 * 86_400,
            }
        ]
    )
    return client


def _rates(client: Client, settings: Settings, output: str) -> list[float | None]:
    info = client.features.get_historical_features("rows", ["stats"], output)
    rates: list[float | None] = _stored(settings, info.digest).column("stats__rate").to_pylist()
    return rates


def test_apply_builds_the_index_and_retrievals_reuse_it(
    drivers: Client, settings: Settings, platform: Platform
) -> None:
    built = _indexes(platform)
    assert len(built) == 1
    assert _rates(drivers, settings, "first") == EXPECTED
    assert _rates(drivers, settings, "second") == EXPECTED
    assert _indexes(platform) == built


def test_a_new_source_version_gets_its_own_index(
    drivers: Client, settings: Settings, platform: Platform, tmp_path: Path
) -> None:
    newer = pa.table(
        {
            "driver_id": [1, 2],
            "ts": pa.array([at(2, 1), at(1)], STAMP),
            "rate": [7.0, 8.0],
        }
    )
    drivers.datasets.ingest(_write(tmp_path / "newer.parquet", newer), "drivers")
    assert _rates(drivers, settings, "after") == [7.0, 8.0, None, None, None]
    assert len(_indexes(platform)) == 2


@pytest.mark.parametrize("which", ["keys", "events"])
def test_a_corrupt_index_blob_is_rebuilt_and_the_answer_stays_right(
    drivers: Client, settings: Settings, platform: Platform, which: str
) -> None:
    [(_, key, keys_blob, events_blob)] = _indexes(platform)
    _flip(_blob(settings, keys_blob if which == "keys" else events_blob))
    assert _rates(drivers, settings, "healed") == EXPECTED
    [(_, rebuilt_key, rebuilt_keys, rebuilt_events)] = _indexes(platform)
    assert (rebuilt_key, rebuilt_keys, rebuilt_events) == (key, keys_blob, events_blob)
    for digest in (rebuilt_keys, rebuilt_events):  # the rebuilt blobs are sound again
        open_blob_store(settings.blobs_url, encryption=settings.blob_encryption).get_bytes(digest)
    assert _rates(drivers, settings, "again") == EXPECTED


def test_a_missing_index_blob_is_rebuilt(
    drivers: Client, settings: Settings, platform: Platform
) -> None:
    [(_, _, _, events_blob)] = _indexes(platform)
    _blob(settings, events_blob).unlink()
    assert _rates(drivers, settings, "rebuilt") == EXPECTED
    [(_, _, _, rebuilt_events)] = _indexes(platform)
    assert rebuilt_events == events_blob
    assert _blob(settings, events_blob).is_file()  # stored again by the rebuild


def test_a_malformed_index_record_is_rebuilt(
    drivers: Client, settings: Settings, platform: Platform
) -> None:
    [(first_id, _, keys_blob, _)] = _indexes(platform)
    source_blob = drivers.datasets.get("drivers").digest  # sound bytes, but not an index
    with platform.db.session() as session:
        session.execute(
            sa.update(ft.FeatureSourceIndex)
            .where(ft.FeatureSourceIndex.id == first_id)
            .values(events_blob=source_blob)
        )
    assert _rates(drivers, settings, "fixed") == EXPECTED
    [(_, _, rebuilt_keys, rebuilt_events)] = _indexes(platform)
    assert rebuilt_keys == keys_blob and rebuilt_events != source_blob


def test_a_corrupt_source_is_never_indexed(
    drivers: Client, settings: Settings, platform: Platform, tmp_path: Path
) -> None:
    newer = pa.table({"driver_id": [1], "ts": pa.array([at(2, 1)], STAMP), "rate": [7.0]})
    version = drivers.datasets.ingest(_write(tmp_path / "newer.parquet", newer), "drivers")
    _flip(_blob(settings, version.digest))
    with pytest.raises(IntegrityError, match="corrupt"):
        drivers.features.get_historical_features("rows", ["stats"], "broken")
    assert len(_indexes(platform)) == 1  # only the index of the sound first version
    with pytest.raises(NotFound):
        drivers.datasets.get("broken")


def test_multi_column_keys_are_indexed(
    client: Client, settings: Settings, platform: Platform, tmp_path: Path
) -> None:
    source = pa.table(
        {
            "driver_id": [1, 1, 2, 1, 1],
            "city": ["Oslo", "Rome", "Oslo", "Oslo", "Rome"],
            "ts": pa.array([at(1), at(1), at(1), at(2), at(3)], STAMP),
            "rate": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    client.datasets.ingest(_write(tmp_path / "trips.parquet", source), "trips")
    entities = pa.table(
        {
            "driver_id": [1, 1, 2, 2, 1],
            "city": ["Oslo", "Rome", "Oslo", "Rome", None],
            "event_timestamp": pa.array([at(2, 1), at(2), at(5), at(5), at(5)], STAMP),
        }
    )
    client.datasets.ingest(_write(tmp_path / "asks.parquet", entities), "asks")
    client.features.apply(
        [
            {
                "name": "trips",
                "source": "trips",
                "entities": ["driver_id", "city"],
                "event_time": "ts",
                "features": ["rate"],
            }
        ]
    )
    assert len(_indexes(platform)) == 1
    info = client.features.get_historical_features("asks", ["trips"], "answers")
    rates = _stored(settings, info.digest).column("trips__rate").to_pylist()
    assert rates == [4.0, 2.0, 3.0, None, None]
