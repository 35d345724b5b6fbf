"""NATS JetStream: a durable pull consumer acknowledged only after the commit."""

from __future__ import annotations

import pytest
from streamkit import CrashBeforeAck, committed_ids, encoded, record, spec

from shipyard.client import Client
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


def nats_spec(name: str, url: str, names: tuple[str, str], **overrides: object) -> StreamSpec:
    source = {
        "kind": "nats",
        "url": url,
        "stream": names[0],
        "subject": names[1],
        "ack_wait_seconds": 1.0,
    }
    return StreamSpec.model_validate(spec(name, source, **overrides))


def produce(platform: Platform, name: str, values: list[tuple[str | None, bytes]]) -> list[str]:
    with platform.db.session() as session:
        stream = load_stream(session, name)
    with open_producer(platform, stream) as producer:
        return producer.publish(values)


def test_bad_messages_are_rejected_good_ones_committed(
    platform: Platform, admin: RequestContext, nats_url: str, jetstream: tuple[str, str]
) -> None:
    create_stream(admin, nats_spec("n", nats_url, jetstream))
    values = [*encoded([record(1)]), (None, b"[1, 2"), (None, b'{"id": 2}')]
    offsets = produce(platform, "n", [*values, *encoded([record(3)])])
    assert offsets == ["1", "2", "3", "4"]
    summary = consume(admin, "n", idle_exit=0.5)
    assert (summary.received, summary.committed, summary.rejected) == (4, 2, 2)
    assert committed_ids(platform, "n") == [1, 3]
    again = consume(admin, "n", idle_exit=1.5)
    assert again.received == 0


def test_the_ingest_endpoint_publishes_to_jetstream(
    client: Client,
    platform: Platform,
    admin: RequestContext,
    nats_url: str,
    jetstream: tuple[str, str],
) -> None:
    client.streams.create(nats_spec("web", nats_url, jetstream).model_dump(mode="json"))
    result = client.streams.put("web", [record(1), record(2) | {"at": "soon"}, record(3)])
    assert (result.accepted, result.rejected, result.offsets) == (2, 1, ["1", "2"])
    consume(admin, "web", idle_exit=0.5)
    assert committed_ids(platform, "web") == [1, 3]


def test_a_crash_between_commit_and_ack_redelivers_and_drops_duplicates(
    platform: Platform, admin: RequestContext, nats_url: str, jetstream: tuple[str, str]
) -> None:
    create_stream(admin, nats_spec("c", nats_url, jetstream))
    produce(platform, "c", encoded([record(i) for i in range(300)]))
    with platform.db.session() as session:
        stream = load_stream(session, "c")
    dying = CrashBeforeAck(open_source(platform, stream, "unused"), commits=1)
    with pytest.raises(CrashBeforeAck.Died):
        consume(admin, "c", source=dying)
    assert sorted(committed_ids(platform, "c")) == list(range(200))

    summary = consume(admin, "c", idle_exit=2.0)
    assert summary.duplicates >= 100
    assert summary.committed == 100
    assert sorted(committed_ids(platform, "c")) == list(range(300))
