"""Choose the source and producer a stream's spec names, with their defaults filled in."""

from __future__ import annotations

import re
import socket

from shipyard.errors import Conflict
from shipyard.platform import Platform
from shipyard.schemas.streams import HttpSource, NatsSource, RedisSource, StreamSpec
from shipyard.streams._allowlist import source_url_problem
from shipyard.streams._commit import LoadedStream
from shipyard.streams._log import DatabaseLogProducer, DatabaseLogSource
from shipyard.streams._source import StreamProducer, StreamSource

_NOT_JS_NAME = re.compile(r"[^A-Za-z0-9_-]")


def with_defaults(spec: StreamSpec) -> StreamSpec:
    """The spec with its target dataset and broker names filled in from the stream name."""
    updates: dict[str, object] = {}
    if not spec.dataset:
        updates["dataset"] = spec.name
    source = spec.source
    if isinstance(source, RedisSource) and not source.key:
        updates["source"] = source.model_copy(update={"key": f"shipyard:stream:{spec.name}"})
    elif isinstance(source, NatsSource) and not (source.stream and source.subject):
        token = _NOT_JS_NAME.sub("_", spec.name)
        updates["source"] = source.model_copy(
            update={
                "stream": source.stream or f"SHIPYARD_{token}",
                "subject": source.subject or f"shipyard.streams.{token}",
            }
        )
    return spec.model_copy(update=updates) if updates else spec


def default_consumer_name(stream: str) -> str:
    """A consumer name stable across restarts on this host, so a restart finds its own pending."""
    return f"{socket.gethostname()}-{stream}"[:200]


def check_allowed(platform: Platform, stream: LoadedStream) -> None:
    """Refuse to connect to a stored source URL the server's allowlist no longer admits."""
    problem = source_url_problem(platform.settings, stream.spec.source)
    if problem is not None:
        raise Conflict(
            f"stream {stream.name!r} version {stream.version} cannot connect: {problem}; "
            "create a new version with an allowed URL, or allow it in the server's settings",
            field="spec.source.url",
        )


def open_source(platform: Platform, stream: LoadedStream, consumer: str) -> StreamSource:
    """A connected source for one consumer of ``stream`` (whose URL must be allowed)."""
    check_allowed(platform, stream)
    source = stream.spec.source
    if isinstance(source, RedisSource):
        from shipyard.streams._redis import RedisStreamsSource

        return RedisStreamsSource(
            source.url,
            source.key,
            source.group,
            consumer,
            claim_idle_seconds=source.claim_idle_seconds,
        )
    if isinstance(source, NatsSource):
        from shipyard.streams._nats import JetStreamSource

        return JetStreamSource(
            source.url,
            source.stream,
            source.subject,
            source.durable,
            ack_wait_seconds=source.ack_wait_seconds,
        )
    assert isinstance(source, HttpSource)
    return DatabaseLogSource(platform.db, stream.stream_id, stream.name)


def open_producer(platform: Platform, stream: LoadedStream) -> StreamProducer:
    """A connected producer that appends to ``stream``'s broker (whose URL must be allowed)."""
    check_allowed(platform, stream)
    source = stream.spec.source
    if isinstance(source, RedisSource):
        from shipyard.streams._redis import RedisStreamsProducer

        return RedisStreamsProducer(source.url, source.key)
    if isinstance(source, NatsSource):
        from shipyard.streams._nats import JetStreamProducer

        return JetStreamProducer(source.url, source.stream, source.subject)
    return DatabaseLogProducer(platform.db, stream.stream_id)
