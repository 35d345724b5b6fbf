"""Feature store fixtures: the live Redis on this machine, one key prefix per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import service_unavailable

from shipyard.client import Client
from shipyard.features.online import OnlineStore, RedisOnlineStore, SqliteOnlineStore

REDIS_URL = os.environ.get("SHIPYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL whose key prefix is unique to this test; its keys are deleted afterwards."""
    import redis

    prefix = f"shipyard-test:{uuid.uuid4().hex[:12]}:"
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except (redis.RedisError, OSError) as error:
        connection.close()
        service_unavailable(f"Redis at {REDIS_URL} is not reachable: {error}")
    separator = "&" if "?" in REDIS_URL else "?"
    yield f"{REDIS_URL}{separator}prefix={prefix}"
    keys = list(connection.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        connection.unlink(*keys)
    connection.close()


@pytest.fixture(params=["sqlite", "redis"])
def online_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    """Every online-store test runs against SQLite and the live Redis."""
    store: OnlineStore
    if request.param == "sqlite":
        store = SqliteOnlineStore(tmp_path / "online.db")
    else:
        store = RedisOnlineStore(request.getfixturevalue("redis_url"))
    yield store
    store.close()


DAY = 86_400


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 1, day, hour)


VIEWS_YAML = """
views:
  - name: driver_stats
    source: drivers
    entities: [driver_id]
    event_time: ts
    features: [rate, trips]
    ttl: 1d
    description: hourly driver statistics
  - name: customer_spend
    source: customers@1
    entities: [customer]
    event_time: updated
    features: [spend]
"""


def write_feature_data(directory: Path) -> dict[str, Path]:
    """Small drivers/customers sources and a trips entity table, as Parquet files."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = pa.timestamp("us")
    tables = {
        "drivers": pa.table(
            {
                "driver_id": [1, 1, 2, 3],
                "ts": pa.array([at(1), at(3), at(2), at(1)], stamp),
                "rate": [1.0, 2.0, 3.0, 4.0],
                "trips": [5, 6, 7, 8],
                "city": ["Oslo", "Oslo", "Rome", "Lima"],
            }
        ),
        "customers": pa.table(
            {
                "customer": ["c1", "c2", "c1"],
                "updated": pa.array([at(1), at(1), at(4)], stamp),
                "spend": [10.0, 20.0, 30.0],
            }
        ),
        "trips": pa.table(
            {
                "driver_id": [3, 1, 2, 1, 9],
                "customer": ["c1", "c2", "c1", "c1", "c2"],
                "event_timestamp": pa.array([at(2), at(2), at(2), at(5), at(2)], stamp),
                "label": [1, 0, 1, 0, 1],
            }
        ),
    }
    paths = {}
    for name, table in tables.items():
        paths[name] = directory / f"{name}.parquet"
        pq.write_table(table, paths[name])
    paths["views"] = directory / "views.yaml"
    paths["views"].write_text(VIEWS_YAML)
    return paths


@pytest.fixture
def feature_client(client: Client, tmp_path: Path) -> Client:
    """The SDK client (both transports, both databases) with the sources ingested, views applied."""
    paths = write_feature_data(tmp_path / "data")
    for name in ("drivers", "customers", "trips"):
        client.datasets.ingest(paths[name], name)
    client.features.apply(paths["views"])
    return client
