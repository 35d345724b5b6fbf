"""Point-in-time join against a brute-force reference on random data, TTL edges, bad tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import InvalidInput
from shipyard.features import ViewSource, point_in_time_join

BASE = datetime(2024, 1, 1)


def _random_source(rng: np.random.Generator, keys: int, rows: int, kind: str) -> pa.Table:
    """Unique (key, event time) pairs so that the expected answer is unambiguous."""
    entity = rng.integers(0, keys, rows)
    minutes = rng.choice(keys * 3000, size=rows, replace=False) % 3000
    seen = set()
    pairs = []
    for k, m in zip(entity.tolist(), minutes.tolist(), strict=True):
        if (k, m) not in seen:
            seen.add((k, m))
            pairs.append((k, m))
    key_column = (
        pa.array([k for k, _ in pairs])
        if kind == "integer"
        else pa.array([f"id-{k}\x1f" for k, _ in pairs])
    )
    return pa.table(
        {
            "key": key_column,
            "region": pa.array([k % 3 for k, _ in pairs], pa.int32()),
            "at": pa.array([BASE + timedelta(minutes=m) for _, m in pairs], pa.timestamp("us")),
            "value": pa.array(rng.random(len(pairs))),
            "label": pa.array([f"v{i}" for i in range(len(pairs))]),
        }
    )


def _reference(
    entities: pa.Table, source: pa.Table, keys: list[str], ttl: timedelta | None
) -> list[tuple[float | None, str | None]]:
    rows = source.to_pylist()
    expected: list[tuple[float | None, str | None]] = []
    for entity in entities.to_pylist():
        when = entity["event_timestamp"]
        candidates = [
            r
            for r in rows
            if all(r[k] == entity[k] for k in keys) and when is not None and r["at"] <= when
        ]
        best = max(candidates, key=lambda r: r["at"], default=None)
        if best is None or (ttl is not None and best["at"] < when - ttl):
            expected.append((None, None))
        else:
            expected.append((best["value"], best["label"]))
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("kind", ["integer", "string"])
def test_matches_brute_force_reference(seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    source = _random_source(rng, keys=40, rows=600, kind=kind)
    picked = rng.integers(0, source.num_rows, 300)
    keys = source.column("key").take(pa.array(picked))
    when = [BASE + timedelta(minutes=int(m)) for m in rng.integers(-60, 3300, 300)]
    when[5] = None  # a row without a timestamp gets nulls
    entities = pa.table(
        {
            "key": keys,
            "region": source.column("region").take(pa.array(picked)),
            "event_timestamp": pa.array(when, pa.timestamp("us")),
            "row": pa.array(range(300)),
        }
    )
    ttl_minutes = [0, 30, 200, 10_000][seed - 1]
    views = [
        ViewSource(
            name="by_key",
            entities=["key"],
            event_time="at",
            features=["value", "label"],
            output_names=["by_key__value", "by_key__label"],
            ttl_seconds=ttl_minutes * 60,
            table=source,
        ),
        ViewSource(
            name="by_both",
            entities=["key", "region"],
            event_time="at",
            features=["value"],
            output_names=["by_both__value"],
            ttl_seconds=0,
            table=source,
        ),
    ]
    result = point_in_time_join(entities, views)
    assert result.column_names[:4] == entities.column_names
    assert result.slice(0, result.num_rows).select(entities.column_names).equals(entities)
    ttl = timedelta(minutes=ttl_minutes) if ttl_minutes else None
    expected = _reference(entities, source, ["key"], ttl)
    got = list(
        zip(
            result.column("by_key__value").to_pylist(),
            result.column("by_key__label").to_pylist(),
            strict=True,
        )
    )
    assert got == expected
    both = _reference(entities, source, ["key", "region"], None)
    assert result.column("by_both__value").to_pylist() == [v for v, _ in both]
    assert any(v is not None for v, _ in expected)
    assert any(v is None for v, _ in expected[:5] + expected[6:])


def test_ttl_boundary_is_inclusive_and_exact_time_matches() -> None:
    source = pa.table(
        {
            "id": [1, 2],
            "at": pa.array(
                [datetime(2024, 1, 1, 12), datetime(2024, 1, 1, 12)], pa.timestamp("us")
            ),
            "x": [10.0, 20.0],
        }
    )
    hour = timedelta(hours=1)
    times = [
        datetime(2024, 1, 1, 12),  # exactly at the event time
        datetime(2024, 1, 1, 13),  # exactly event time + TTL
        datetime(2024, 1, 1, 13) + timedelta(microseconds=1),  # just past the TTL
        datetime(2024, 1, 1, 12) - timedelta(microseconds=1),  # just before the event
    ]
    entities = pa.table(
        {"id": [1, 1, 1, 2], "event_timestamp": pa.array(times, pa.timestamp("us"))}
    )
    view = ViewSource("v", ["id"], "at", ["x"], ["x"], int(hour.total_seconds()), source)
    result = point_in_time_join(entities, [view])
    assert result.column("x").to_pylist() == [10.0, 10.0, None, None]


def test_order_columns_and_time_zones_are_preserved(tmp_path: Path) -> None:
    paris = pa.timestamp("us", tz="Europe/Paris")
    source = pa.table(
        {
            "user": ["a", "b", "a"],
            "ts": pa.array(
                [
                    datetime(2024, 3, 1, 10, tzinfo=UTC),
                    datetime(2024, 3, 1, 10, tzinfo=UTC),
                    datetime(2024, 3, 2, 10, tzinfo=UTC),
                ],
                pa.timestamp("ns", tz="UTC"),
            ),
            "score": [1, 2, 3],
        }
    )
    pq.write_table(source, tmp_path / "scores.parquet")
    # 10:30 in Paris is 09:30 UTC: before the 10:00 UTC event, though its wall clock is after.
    local = ZoneInfo("Europe/Paris")
    entities = pa.table(
        {
            "user": ["b", "a", "zz", "a"],
            "when": pa.array(
                [
                    datetime(2024, 3, 1, 10, 30, tzinfo=local),
                    datetime(2024, 3, 2, 11, 30, tzinfo=local),
                    datetime(2024, 3, 2, 11, 30, tzinfo=local),
                    datetime(2024, 3, 1, 11, 30, tzinfo=local),
                ],
                paris,
            ),
        }
    )
    view = ViewSource("s", ["user"], "ts", ["score"], ["s__score"], 0, tmp_path / "scores.parquet")
    result = point_in_time_join(entities, [view])
    assert result.schema.field("when").type == paris
    assert result.column("user").to_pylist() == ["b", "a", "zz", "a"]
    assert result.column("s__score").to_pylist() == [None, 3, None, 1]


def test_entity_table_without_timestamp_is_refused() -> None:
    source = pa.table({"id": [1], "at": pa.array([BASE], pa.timestamp("us")), "x": [1.0]})
    view = ViewSource("v", ["id"], "at", ["x"], ["v__x"], 0, source)
    with pytest.raises(InvalidInput) as caught:
        point_in_time_join(pa.table({"id": [1], "label": [0]}), [view])
    assert caught.value.field == "timestamp_column"
    assert "timestamp column" in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        point_in_time_join(pa.table({"id": [1], "day": ["2024-01-01"]}), [view], timestamp="day")
    assert "not a timestamp" in caught.value.message


def test_missing_or_mismatched_entity_keys_are_refused() -> None:
    source = pa.table({"id": [1], "at": pa.array([BASE], pa.timestamp("us")), "x": [1.0]})
    view = ViewSource("v", ["id"], "at", ["x"], ["v__x"], 0, source)
    when = pa.array([BASE], pa.timestamp("us"))
    with pytest.raises(InvalidInput, match="no column 'id'") as caught:
        point_in_time_join(pa.table({"user": [1], "event_timestamp": when}), [view])
    assert caught.value.field == "entities"
    with pytest.raises(InvalidInput, match="entity key 'id' is string"):
        point_in_time_join(pa.table({"id": ["1"], "event_timestamp": when}), [view])
    with pytest.raises(InvalidInput, match="clashes"):
        clash = ViewSource("v", ["id"], "at", ["x"], ["id"], 0, source)
        point_in_time_join(pa.table({"id": [1], "event_timestamp": when}), [clash])
