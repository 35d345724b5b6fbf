"""Point-in-time join edge cases: ties, nulls, missing entities, several views, kept types."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.features import ViewSource, point_in_time_join

T0 = datetime(2024, 5, 1, 12)
US = pa.timestamp("us")


def _view(table: pa.Table | Path | list[Path], features: list[str], ttl: int = 0) -> ViewSource:
    return ViewSource("v", ["id"], "at", features, [f"v__{f}" for f in features], ttl, table)


def _ties() -> pa.Table:
    """Entity 1 has three rows at T0 (and one earlier); entity 2 two at T0."""
    return pa.table(
        {
            "id": [1, 2, 1, 1, 2, 1],
            "at": pa.array([T0, T0, T0 - timedelta(hours=1), T0, T0, T0], US),
            "x": [1.0, 20.0, 0.5, 2.0, 21.0, 3.0],
            "tag": ["a", "p", "early", "b", "q", "c"],
        }
    )


def _entities(ids: list[int | None], times: list[datetime | None]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "event_timestamp": pa.array(times, US)})


@pytest.mark.parametrize("stored", ["table", "file"])
def test_of_equal_event_times_the_row_stored_last_wins_whole(stored: str, tmp_path: Path) -> None:
    source = _ties()
    table: pa.Table | Path = source
    if stored == "file":
        table = tmp_path / "ties.parquet"
        pq.write_table(source, table, row_group_size=2)  # ties span row groups
    entities = _entities([1, 2, 1, 1], [T0, T0 + timedelta(days=1), T0 - timedelta(minutes=1), T0])
    for _ in range(3):  # the same answer every time, whatever DuckDB's thread schedule
        result = point_in_time_join(entities, [_view(table, ["x", "tag"])])
        assert result.column("v__x").to_pylist() == [3.0, 21.0, 0.5, 3.0]
        assert result.column("v__tag").to_pylist() == ["c", "q", "early", "c"]


def test_ties_across_files_go_to_the_later_file(tmp_path: Path) -> None:
    source = _ties()
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(source.slice(3), first)  # rows b, q, c
    pq.write_table(source.slice(0, 3), second)  # rows a, p, early: stored after the first file
    entities = _entities([1, 2], [T0, T0])
    result = point_in_time_join(entities, [_view([first, second], ["tag"])])
    assert result.column("v__tag").to_pylist() == ["a", "p"]


def test_missing_entities_null_keys_and_null_times_get_nulls() -> None:
    source = pa.table(
        {
            "id": pa.array([1, None, 3], pa.int64()),
            "at": pa.array([T0, T0, None], US),
            "x": [1.0, 2.0, 3.0],
        }
    )
    later = T0 + timedelta(hours=1)
    entities = _entities([1, 7, None, 1, 3], [later, later, later, None, later])
    result = point_in_time_join(entities, [_view(source, ["x"])])
    # 7 has no rows, a null key matches nothing, a null time matches nothing, and a source
    # row without an event time is never picked.
    assert result.column("v__x").to_pylist() == [1.0, None, None, None, None]
    assert result.select(["id", "event_timestamp"]).equals(entities)


def test_the_latest_row_wins_even_when_its_value_is_null() -> None:
    source = pa.table(
        {
            "id": [1, 1],
            "at": pa.array([T0, T0 + timedelta(hours=1)], US),
            "x": pa.array([1.0, None]),
            "n": [5, 6],
        }
    )
    entities = _entities([1, 1], [T0 + timedelta(minutes=30), T0 + timedelta(hours=2)])
    result = point_in_time_join(entities, [_view(source, ["x", "n"])])
    assert result.column("v__x").to_pylist() == [1.0, None]
    assert result.column("v__n").to_pylist() == [5, 6]


def test_ttl_boundary_on_a_file_source_with_nanoseconds(tmp_path: Path) -> None:
    ns = pa.timestamp("ns", tz="UTC")
    event = datetime(2024, 5, 1, 12, tzinfo=UTC)
    pq.write_table(
        pa.table({"id": [1], "at": pa.array([event], ns), "x": [1.5]}), tmp_path / "s.parquet"
    )
    entities = pa.table(
        {
            "id": [1, 1, 1],
            "event_timestamp": pa.array(
                [
                    event + timedelta(seconds=60),  # exactly at the TTL
                    event + timedelta(seconds=60, microseconds=1),  # just past it
                    event - timedelta(microseconds=1),  # before the event
                ],
                ns,
            ),
        }
    )
    result = point_in_time_join(entities, [_view(tmp_path / "s.parquet", ["x"], ttl=60)])
    assert result.column("v__x").to_pylist() == [1.5, None, None]


def test_several_views_with_different_keys_sources_and_ttls(tmp_path: Path) -> None:
    users = pa.table(
        {
            "user": ["u1", "u2", "u1"],
            "at": pa.array([T0, T0, T0 + timedelta(days=2)], US),
            "age": [30, 40, 31],
        }
    )
    pq.write_table(users, tmp_path / "users.parquet")
    pairs = pa.table(
        {
            "user": ["u1", "u1"],
            "shop": pa.array([7, 8], pa.int32()),
            "at": pa.array([T0, T0], US),
            "spent": [1.0, 2.0],
        }
    )
    shops = pa.table({"shop": [7, 8], "at": pa.array([T0, T0], US), "rating": [4.5, 3.0]})
    day = 86_400
    views = [
        ViewSource("users", ["user"], "at", ["age"], ["users__age"], 0, tmp_path / "users.parquet"),
        ViewSource("pairs", ["user", "shop"], "at", ["spent"], ["pairs__spent"], day, pairs),
        ViewSource("shops", ["shop"], "at", ["rating"], ["shops__rating"], 3 * day, shops),
    ]
    entities = pa.table(
        {
            "user": ["u1", "u1", "u2", "u9"],
            "shop": pa.array([8, 7, 7, 8], pa.int64()),
            "event_timestamp": pa.array(
                [T0 + timedelta(hours=1), T0 + timedelta(days=2), T0, T0], US
            ),
        }
    )
    result = point_in_time_join(entities, views)
    assert result.column_names == [
        "user",
        "shop",
        "event_timestamp",
        "users__age",
        "pairs__spent",
        "shops__rating",
    ]
    assert result.column("users__age").to_pylist() == [30, 31, 40, None]
    assert result.column("pairs__spent").to_pylist() == [2.0, None, None, None]
    assert result.column("shops__rating").to_pylist() == [3.0, 4.5, 4.5, 3.0]


def test_feature_types_come_back_as_stored(tmp_path: Path) -> None:
    paris = pa.timestamp("ms", tz="Europe/Paris")
    source = pa.table(
        {
            "id": [1, 2],
            "at": pa.array([date(2024, 1, 1), date(2024, 1, 2)], pa.date32()),
            "small": pa.array([1, 2], pa.int16()),
            "flag": [True, False],
            "seen": pa.array([datetime(2024, 1, 1, 9, tzinfo=UTC)] * 2, paris),
            "kind": pa.array(["x", "y"]).dictionary_encode(),
            "big": pa.array(["p", "q"], pa.large_string()),
            "day": pa.array([date(2023, 12, 31)] * 2, pa.date32()),
            "tags": pa.array([["a"], ["b", "c"]]),
        }
    )
    pq.write_table(source, tmp_path / "typed.parquet")
    features = ["small", "flag", "seen", "kind", "big", "day", "tags"]
    entities = pa.table(
        {"id": [2, 1, 3], "event_timestamp": pa.array([date(2024, 1, 3)] * 3, pa.date32())}
    )
    for table in (source, tmp_path / "typed.parquet"):
        result = point_in_time_join(entities, [_view(table, features)])
        stored = pq.read_schema(tmp_path / "typed.parquet")
        for feature in features:
            assert result.schema.field(f"v__{feature}").type == stored.field(feature).type
        assert result.column("v__small").to_pylist() == [2, 1, None]
        assert result.column("v__kind").to_pylist() == ["y", "x", None]
        assert result.column("v__tags").to_pylist() == [["b", "c"], ["a"], None]
        assert result.column("v__seen").to_pylist()[1] == datetime(2024, 1, 1, 9, tzinfo=UTC)


def test_an_empty_entity_table_gives_an_empty_result() -> None:
    entities = _entities([], [])
    result = point_in_time_join(entities, [_view(_ties(), ["x"])])
    assert result.num_rows == 0
    assert result.column_names == ["id", "event_timestamp", "v__x"]
