"""Redis Streams: consumer groups, ack after commit, recovery of pending entries after a crash."""

from __future__ import annotations

import orjson
import pytest
import redis
from streamkit import CrashBeforeAck, committed_ids, encoded, record, spec

from shipyard.client import Client, LocalTransport
from shipyard.platform import Platform
from shipyard.security import RequestContext
from shipyard.streams import (
    StreamSpec,
    consume,
    create_stream,
    load_stream,
    open_producer,
    open_source,
)


def redis_spec(name: str, url: str, key: str, **overrides: object) -> dict[str, object]:
    source = {"kind": "redis", "url": url, "key": key, "claim_idle_seconds": 0.5}
    return spec(name, source, **overrides)


def produce(platform: Platform, name: str, values: list[tuple[str | None, bytes]]) -> None:
    with platform.db.session() as session:
        stream = load_stream(session, name)
    with open_producer(platform, stream) as producer:
        producer.publish(values)


def pending(url: str, key: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.xpending(key, "shipyard")["pending"])
    finally:
        client.close()


def test_bad_messages_are_rejected_and_acknowledged_good_ones_committed(
    platform: Platform, admin: RequestContext, redis_url: str, redis_key: str
) -> None:
    create_stream(admin, StreamSpec.model_validate(redis_spec("r", redis_url, redis_key)))
    values = encoded([record(1), record(2) | {"ok": "yes"}])
    values += [(None, b"{broken"), (None, b""), *encoded([record(3)])]
    produce(platform, "r", values)
    summary = consume(admin, "r", idle_exit=0.3)
    assert (summary.received, summary.committed, summary.rejected) == (5, 2, 3)
    assert committed_ids(platform, "r") == [1, 3]
    assert pending(redis_url, redis_key) == 0
    client = Client(transport=LocalTransport(platform, admin))
    reasons = sorted(r.reason for r in client.streams.rejections("r"))
    assert reasons[0].startswith("broken JSON") and reasons[1].startswith("broken JSON")
    assert reasons[2] == "field 'ok': expected boolean, got string \"yes\""


def test_the_ingest_endpoint_appends_to_the_redis_stream(
    client: Client, platform: Platform, admin: RequestContext, redis_url: str, redis_key: str
) -> None:
    client.streams.create(redis_spec("web", redis_url, redis_key))
    result = client.streams.put("web", [record(1), {"id": "x"}, record(2)])
    assert (result.accepted, result.rejected) == (2, 1)
    with redis.Redis.from_url(redis_url) as direct:
        entries = direct.xrange(redis_key)
    assert [e[0].decode() for e in entries] == result.offsets
    assert entries[0][1][b"key"] == b"u1"
    assert orjson.loads(entries[1][1][b"record"]) == record(2)
    consume(admin, "web", idle_exit=0.3)
    assert committed_ids(platform, "web") == [1, 2]


def test_a_crash_between_commit_and_ack_redelivers_and_drops_duplicates(
    platform: Platform, admin: RequestContext, redis_url: str, redis_key: str
) -> None:
    create_stream(admin, StreamSpec.model_validate(redis_spec("c", redis_url, redis_key)))
    produce(platform, "c", encoded([record(i) for i in range(300)]))
    with platform.db.session() as session:
        stream = load_stream(session, "c")
    dying = CrashBeforeAck(open_source(platform, stream, "worker-1"), commits=1)
    with pytest.raises(CrashBeforeAck.Died):
        consume(admin, "c", source=dying)
    assert sorted(committed_ids(platform, "c")) == list(range(200))
    assert pending(redis_url, redis_key) == 100

    summary = consume(admin, "c", consumer="worker-1", idle_exit=0.3)
    assert (summary.received, summary.duplicates, summary.committed) == (200, 100, 100)
    assert sorted(committed_ids(platform, "c")) == list(range(300))
    assert pending(redis_url, redis_key) == 0


def test_entries_left_pending_by_a_dead_consumer_are_claimed(
    platform: Platform, admin: RequestContext, redis_url: str, redis_key: str
) -> None:
    create_stream(admin, StreamSpec.model_validate(redis_spec("d", redis_url, redis_key)))
    produce(platform, "d", encoded([record(i) for i in range(150)]))
    with platform.db.session() as session:
        stream = load_stream(session, "d")
    with open_source(platform, stream, "gone") as dead:
        assert len(dead.poll(150, 1.0)) == 150
    summary = consume(admin, "d", consumer="survivor", idle_exit=1.0)
    assert summary.committed == 150
    assert sorted(committed_ids(platform, "d")) == list(range(150))
    assert pending(redis_url, redis_key) == 0
