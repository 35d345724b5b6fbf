"""Redis Streams: a consumer-group source (XREADGROUP, XACK, XAUTOCLAIM) and an XADD producer.

Wire format: each stream entry carries the record as JSON in the field ``record``
and, optionally, its partition key in the field ``key``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shipyard.errors import StorageError
from shipyard.streams._source import Message, StreamProducer, StreamSource

if TYPE_CHECKING:
    import redis

RECORD_FIELD = b"record"
KEY_FIELD = b"key"
_ACK_CHUNK = 5_000


@contextmanager
def _translated(url: str) -> Iterator[None]:
    import redis

    try:
        yield
    except redis.RedisError as error:
        raise StorageError(f"Redis at {url} failed: {error}") from None


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url``; StorageError when the URL is unusable."""
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    except ValueError as error:
        raise StorageError(f"cannot use Redis URL {url!r}: {error}", field="source.url") from None


def _messages(key: str, entries: list[Any]) -> list[Message]:
    found: list[Message] = []
    for entry_id, fields in entries:
        offset = entry_id.decode()
        if fields is None:
            # Trimmed or deleted after delivery: nothing left to commit, only to acknowledge.
            found.append(Message(offset, key, None, b""))
            continue
        raw_key = fields.get(KEY_FIELD)
        found.append(
            Message(
                offset=offset,
                partition=key,
                key=raw_key.decode(errors="replace") if raw_key is not None else None,
                value=fields.get(RECORD_FIELD, b""),
            )
        )
    return found


class RedisStreamsSource(StreamSource):
    """One member ``consumer`` of the consumer group ``group`` on the Redis stream ``key``.

    On start it first re-reads its own pending entries (delivered before a crash, never
    acknowledged); while running it claims entries other members left pending for longer
    than ``claim_idle_seconds`` (a consumer that died and did not come back).
    """

    def __init__(
        self,
        url: str,
        key: str,
        group: str,
        consumer: str,
        *,
        claim_idle_seconds: float = 30.0,
    ) -> None:
        self.url, self.key, self.group, self.consumer = url, key, group, consumer
        self._claim_idle_ms = int(claim_idle_seconds * 1000)
        self._redis = connect(url)
        self._own_pending: str | None = "0"
        self._next_claim = 0.0
        self._claim_cursor = "0-0"
        with _translated(url):
            try:
                self._redis.xgroup_create(key, group, id="0", mkstream=True)
            except Exception as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        with _translated(self.url):
            if self._own_pending is not None:
                found = self._read(self._own_pending, max_messages, None)
                if found:
                    self._own_pending = found[-1].offset
                    return found
                self._own_pending = None
            if time.monotonic() >= self._next_claim:
                claimed = self._claim(max_messages)
                if claimed:
                    return claimed
            return self._read(">", max_messages, max(1, int(timeout * 1000)))

    def _read(self, start: str, count: int, block_ms: int | None) -> list[Message]:
        reply: Any = self._redis.xreadgroup(
            self.group, self.consumer, {self.key: start}, count=count, block=block_ms
        )
        if not reply:
            return []
        return _messages(self.key, reply[0][1])

    def _claim(self, count: int) -> list[Message]:
        reply: Any = self._redis.xautoclaim(
            self.key,
            self.group,
            self.consumer,
            self._claim_idle_ms,
            start_id=self._claim_cursor,
            count=count,
        )
        cursor, entries = reply[0], reply[1]
        self._claim_cursor = cursor.decode()
        if self._claim_cursor == "0-0":
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        deleted = [d.decode() for d in (reply[2] if len(reply) > 2 else [])]
        if deleted:
            self._redis.xack(self.key, self.group, *deleted)
        return _messages(self.key, entries)

    def commit(self, messages: Sequence[Message]) -> None:
        ids = [m.offset for m in messages]
        with _translated(self.url), self._redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(ids), _ACK_CHUNK):
                pipe.xack(self.key, self.group, *ids[start : start + _ACK_CHUNK])
            pipe.execute()

    def close(self) -> None:
        self._redis.close()


class RedisStreamsProducer(StreamProducer):
    """Appends records to the Redis stream ``key`` with pipelined XADD."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self._redis = connect(url)

    def publish(self, records: Sequence[tuple[str | None, bytes]]) -> list[str]:
        with _translated(self.url), self._redis.pipeline(transaction=False) as pipe:
            for key, value in records:
                fields: dict[bytes, bytes | str] = {RECORD_FIELD: value}
                if key is not None:
                    fields[KEY_FIELD] = key
                pipe.xadd(self.key, fields)  # type: ignore[arg-type]
            return [i.decode() for i in pipe.execute()]

    def close(self) -> None:
        self._redis.close()
