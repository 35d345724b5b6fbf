"""Latest values per entity for the online store; entity keys built alike from Arrow and JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pyarrow as pa

from shipyard.features import FeatureViewSpec
from shipyard.features._keys import encode_key, encode_key_columns
from shipyard.features._materialize import latest_per_entity

SPEC = FeatureViewSpec(
    name="v",
    source="src",
    entities=["shop", "item"],
    event_time="at",
    features=["price", "tag"],
)


def test_latest_per_entity_in_a_half_open_range() -> None:
    plus_two = timezone(timedelta(hours=2))
    table = pa.table(
        {
            "shop": ["a", "a", "a", "b", None],
            "item": [1, 1, 1, 1, 1],
            "at": pa.array(
                [
                    datetime(2024, 1, 1, 2, tzinfo=plus_two),  # 00:00 UTC
                    datetime(2024, 1, 2, 2, tzinfo=plus_two),  # 00:00 UTC, the newest in range
                    datetime(2024, 1, 3, 2, tzinfo=plus_two),  # == end: excluded
                    datetime(2024, 1, 1, 12, tzinfo=plus_two),
                    datetime(2024, 1, 1, 12, tzinfo=plus_two),  # null key: skipped
                ],
                pa.timestamp("us", tz="+02:00"),
            ),
            "price": [1.0, float("nan"), 3.0, 4.0, 5.0],
            "tag": ["x", "y", "z", "w", "v"],
        }
    )
    batch = latest_per_entity(
        table, SPEC, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
    )
    got = {
        key: (time, orjson.loads(payload))
        for key, time, payload in zip(batch.keys, batch.event_times_us, batch.payloads, strict=True)
    }
    day = 86_400_000_000
    base = 1_704_067_200_000_000
    assert got == {
        encode_key(["a", 1]): (base + day, {"price": None, "tag": "y"}),
        encode_key(["b", 1]): (base + day // 2 - 2 * 3_600_000_000, {"price": 4.0, "tag": "w"}),
    }
    assert latest_per_entity(table, SPEC, datetime(2025, 1, 1), datetime(2025, 2, 1)).keys == []


def test_keys_from_arrow_match_keys_from_requests() -> None:
    shops = ["plain", "sep\x1fin", "back\\slash", "\\u", "naïve", ""]
    items = [1, -2, 30, 4, 5, 6]
    encoded = encode_key_columns([pa.array(shops), pa.array(items, pa.int32())]).to_pylist()
    assert encoded == [encode_key([s, i]) for s, i in zip(shops, items, strict=True)]
    assert len(set(encoded)) == len(encoded)
    assert encode_key(["a\x1f", 1]) != encode_key(["a", 1])
