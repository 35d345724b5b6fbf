"""One contract suite for every online store: SQLite (default) and the live Redis."""

from __future__ import annotations

import threading

import orjson

from shipyard.features.online import OnlineBatch, OnlineRecord, OnlineStore


def batch(rows: dict[str, tuple[int, dict[str, object]]]) -> OnlineBatch:
    return OnlineBatch(
        keys=list(rows),
        event_times_us=[t for t, _ in rows.values()],
        payloads=[orjson.dumps(v).decode() for _, v in rows.values()],
    )


def test_round_trip_and_missing_keys(online_store: OnlineStore) -> None:
    values = {"rate": 0.5, "trips": 7, "city": "Oslo", "vip": True, "note": None}
    assert online_store.write("drivers", batch({"1": (100, values), "2": (50, {"rate": 1.5})})) == 2
    found = online_store.read_view("drivers", ["2", "missing", "1", "2"])
    assert found == [
        OnlineRecord(50, {"rate": 1.5}),
        None,
        OnlineRecord(100, values),
        OnlineRecord(50, {"rate": 1.5}),
    ]
    assert online_store.read_view("drivers", []) == []


def test_newer_or_equal_wins_and_older_never_overwrites(online_store: OnlineStore) -> None:
    online_store.write("v", batch({"k": (200, {"x": 2})}))
    online_store.write("v", batch({"k": (100, {"x": 1})}))
    assert online_store.read_view("v", ["k"]) == [OnlineRecord(200, {"x": 2})]
    online_store.write("v", batch({"k": (200, {"x": 3})}))
    assert online_store.read_view("v", ["k"]) == [OnlineRecord(200, {"x": 3})]
    online_store.write("v", batch({"k": (300, {"x": 4})}))
    assert online_store.read_view("v", ["k"]) == [OnlineRecord(300, {"x": 4})]


def test_views_are_isolated_and_read_in_one_batch(online_store: OnlineStore) -> None:
    online_store.write("a", batch({"1": (1, {"f": "a1"})}))
    online_store.write("b", batch({"1": (1, {"f": "b1"}), "2": (1, {"f": "b2"})}))
    result = online_store.read([("a", ["1", "2"]), ("b", ["2", "1"]), ("c", ["1"])])
    assert result == [
        [OnlineRecord(1, {"f": "a1"}), None],
        [OnlineRecord(1, {"f": "b2"}), OnlineRecord(1, {"f": "b1"})],
        [None],
    ]
    assert online_store.delete_view("b") == 2
    assert online_store.read_view("b", ["1", "2"]) == [None, None]
    assert online_store.read_view("a", ["1"]) == [OnlineRecord(1, {"f": "a1"})]


def test_awkward_keys_and_large_batches(online_store: OnlineStore) -> None:
    awkward = ["a:b", "x*y?[z]", "naïve ☃", "sep\x1fkey", "back\\slash", "", "1"]
    online_store.write("odd-view.v2", batch({k: (5, {"key": k}) for k in awkward}))
    found = online_store.read_view("odd-view.v2", awkward)
    assert [r.values["key"] if r else None for r in found] == awkward
    many = {str(i): (i, {"i": i}) for i in range(25_000)}
    assert online_store.write("big", batch(many)) == 25_000
    keys = [str(i) for i in range(0, 25_000, 7)] + ["nope"]
    records = online_store.read_view("big", keys)
    assert [r.values["i"] if r else None for r in records] == [
        *range(0, 25_000, 7),
        None,
    ]
    assert online_store.delete_view("big") == 25_000


def test_reads_from_other_threads(online_store: OnlineStore) -> None:
    online_store.write("t", batch({str(i): (1, {"i": i}) for i in range(50)}))
    seen: list[list[int]] = []

    def reader() -> None:
        records = online_store.read_view("t", [str(i) for i in range(50)])
        seen.append([r.values["i"] for r in records if r is not None])

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [list(range(50))] * 4
