"""Feature views, retrieval and online reads through the SDK: both transports, both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from tests.features.conftest import VIEWS_YAML, at

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound


def test_apply_versions_list_and_show(feature_client: Client, tmp_path: Path) -> None:
    client = feature_client
    views = {v.name: v for v in client.features.list()}
    assert sorted(views) == ["customer_spend", "driver_stats"]
    stats = views["driver_stats"]
    assert (stats.version, stats.ttl, stats.source, stats.source_version) == (
        1,
        86400,
        "drivers",
        1,
    )
    assert stats.columns == {
        "driver_id": "integer",
        "ts": "timestamp",
        "rate": "float",
        "trips": "integer",
    }
    path = tmp_path / "again.yaml"
    path.write_text(VIEWS_YAML)
    assert [v.created for v in client.features.apply(path)] == [False, False]
    path.write_text(VIEWS_YAML.replace("ttl: 1d", "ttl: 2h"))
    changed = {v.name: v for v in client.features.apply(path)}
    assert (changed["driver_stats"].version, changed["driver_stats"].ttl) == (2, 7200)
    assert changed["customer_spend"].created is False
    assert client.features.get("driver_stats").version == 2
    assert client.features.get("driver_stats@1").ttl == 86400
    with pytest.raises(NotFound):
        client.features.get("driver_stats@9")


BAD_VIEWS = [
    ({"entities": ["driver"]}, "entities", "driver"),
    ({"entities": ["rate"], "features": ["trips"]}, "entities", "rate"),
    ({"event_time": "when"}, "event_time", "when"),
    ({"event_time": "city"}, "event_time", "city"),
    ({"features": ["rate", "speed"]}, "features", "speed"),
    ({"source": "nowhere"}, "source", "nowhere"),
    ({"source": "drivers@7"}, "source", "version 7"),
    ({"ttl": "soon"}, "views[1].ttl", "duration"),
]


def test_bad_views_name_the_problem_and_write_nothing(feature_client: Client) -> None:
    good = {
        "name": "fresh",
        "source": "drivers",
        "entities": ["driver_id"],
        "event_time": "ts",
        "features": ["rate"],
    }
    for change, field, column in BAD_VIEWS:
        with pytest.raises(InvalidInput) as caught:
            feature_client.features.apply([good, {**good, "name": "broken", **change}])
        assert caught.value.field == field, change
        assert column in caught.value.message, change
    assert [v.name for v in feature_client.features.list()] == ["customer_spend", "driver_stats"]


def test_historical_retrieval_is_point_in_time(feature_client: Client) -> None:
    client = feature_client
    info = client.features.get_historical_features(
        "trips", ["driver_stats", "customer_spend:spend"], "training"
    )
    assert (info.ref, info.rows, info.created) == ("training@1", 5, True)
    assert "driver_stats@1" in info.source and "trips@1" in info.source
    head = client.datasets.head("training@1")
    assert head.columns == [
        "driver_id",
        "customer",
        "event_timestamp",
        "label",
        "driver_stats__rate",
        "driver_stats__trips",
        "customer_spend__spend",
    ]
    got = [
        (
            r["driver_id"],
            r["driver_stats__rate"],
            r["driver_stats__trips"],
            r["customer_spend__spend"],
        )
        for r in head.rows
    ]
    assert got == [
        (3, 4.0, 8, 10.0),  # exactly at the TTL boundary: kept
        (1, 1.0, 5, 20.0),
        (2, 3.0, 7, 10.0),  # exactly at the event time: kept
        (1, None, None, 30.0),  # newest driver row is older than the TTL
        (9, None, None, 20.0),  # unknown driver
    ]
    short = client.features.get_historical_features(
        "trips@1", ["driver_stats:rate"], "training", full_feature_names=False
    )
    assert short.version == 2
    assert client.datasets.head("training@2").columns[-1] == "rate"

    # a local Arrow table is stored as <output>-entities first
    entities = pa.table(
        {
            "driver_id": [2, 1],
            "seen": pa.array([at(2, 5), at(3, 1)], pa.timestamp("us")),
        }
    )
    info = client.features.get_historical_features(
        entities, ["driver_stats:trips"], "adhoc", timestamp_column="seen"
    )
    assert info.rows == 2
    assert [r["driver_stats__trips"] for r in client.datasets.head(info.ref).rows] == [7, 6]
    assert client.datasets.get("adhoc-entities").rows == 2


def test_retrieval_bad_inputs_write_nothing(feature_client: Client, tmp_path: Path) -> None:
    client = feature_client
    untimed = tmp_path / "untimed.csv"
    untimed.write_text("driver_id,label\n1,0\n2,1\n")
    client.datasets.ingest(untimed, "untimed")
    with pytest.raises(InvalidInput) as caught:
        client.features.get_historical_features("untimed", ["driver_stats"], "out")
    assert caught.value.field == "timestamp_column"
    with pytest.raises(InvalidInput) as caught:
        client.features.get_historical_features("trips", ["driver_stats:speed"], "out")
    assert "speed" in caught.value.message
    with pytest.raises(NotFound):
        client.features.get_historical_features("trips", ["no_such_view"], "out")
    with pytest.raises(InvalidInput) as caught:
        client.features.get_historical_features(
            "trips", ["driver_stats:rate", "customer_spend:spend"], "out", timestamp_column="nope"
        )
    assert caught.value.field == "timestamp_column"
    assert "out" not in [d.name for d in client.datasets.list()]


def test_materialize_and_read_online(feature_client: Client) -> None:
    client = feature_client
    first = client.features.materialize("driver_stats", start=at(2), end=at(3))
    assert (first.rows, first.online_store, first.source) == (1, "sqlite", "drivers@1")
    entities = [{"driver_id": 2}, {"driver_id": 1}, {"driver_id": 42}]
    online = client.features.get_online_features(["driver_stats"], entities)
    assert online.columns == ["driver_id", "driver_stats__rate", "driver_stats__trips"]
    assert online.rows == [
        {"driver_id": 2, "driver_stats__rate": 3.0, "driver_stats__trips": 7},
        {"driver_id": 1, "driver_stats__rate": None, "driver_stats__trips": None},
        {"driver_id": 42, "driver_stats__rate": None, "driver_stats__trips": None},
    ]
    second = client.features.materialize("driver_stats", incremental=True)
    assert second.start == datetime(2024, 1, 3, tzinfo=UTC)
    assert second.rows == 1  # only driver 1's Jan 3 row is at or after the watermark
    third = client.features.materialize("driver_stats", incremental=True)
    assert (third.start, third.rows) == (second.end, 0)
    client.features.materialize("driver_stats", end=at(10))
    online = client.features.get_online_features(
        ["driver_stats:trips", "customer_spend"],
        [{"driver_id": "1", "customer": "c1"}, {"driver_id": 3, "customer": "c9"}],
        full_feature_names=False,
    )
    assert online.columns == ["driver_id", "customer", "trips", "spend"]
    assert online.rows == [
        {"driver_id": "1", "customer": "c1", "trips": 6, "spend": None},
        {"driver_id": 3, "customer": "c9", "trips": 8, "spend": None},
    ]
    with pytest.raises(InvalidInput) as caught:
        client.features.get_online_features(["driver_stats"], [{"customer": "c1"}])
    assert caught.value.field == "driver_id"
    with pytest.raises(InvalidInput) as caught:
        client.features.materialize("driver_stats", start=at(5), end=at(4))
    assert caught.value.field == "start"
    with pytest.raises(InvalidInput):
        client.features.materialize("driver_stats", start=at(1), incremental=True)
