"""The Redis online store: one hash per entity (``t`` event time, ``p`` JSON values).

Keys are ``<prefix><view>:<entity key>``; the prefix comes from the URL's ``prefix`` query
parameter (default ``shipyard:features:``). Writes go through a small Lua script in a
pipeline so that an older record never replaces a newer one; reads are one pipeline of HMGETs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from shipyard.errors import InvalidInput, StorageError
from shipyard.features.online._base import OnlineBatch, OnlineRecord, OnlineStore

if TYPE_CHECKING:
    import redis

DEFAULT_PREFIX = "shipyard:features:"
_WRITE_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 't')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'p', ARGV[2])
return 1
"""
_CHUNK = 10_000
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


def split_prefix(url: str) -> tuple[str, str]:
    """The connection URL without ``prefix=``, and the key prefix."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisOnlineStore(OnlineStore):
    """Online features in Redis (``redis://``, ``rediss://`` or ``unix://`` URL)."""

    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        try:
            import redis
        except ImportError:
            raise InvalidInput(
                "the Redis online store needs the 'redis' extra: pip install 'shipyard[redis]'",
                field="online_store_url",
            ) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        connection_url, url_prefix = split_prefix(url)
        self.prefix = prefix if prefix is not None else url_prefix
        try:
            self._redis: redis.Redis = redis.Redis.from_url(connection_url)
        except ValueError as error:
            raise InvalidInput(f"bad Redis URL: {error}", field="online_store_url") from None
        self._script = self._redis.register_script(_WRITE_IF_NEWER)

    def _key(self, view: str, key: str) -> str:
        return f"{self.prefix}{view}:{key}"

    def write(self, view: str, batch: OnlineBatch) -> int:
        try:
            for start in range(0, len(batch), _CHUNK):
                stop = start + _CHUNK
                pipe = self._redis.pipeline(transaction=False)
                for key, event_time, payload in zip(
                    batch.keys[start:stop],
                    batch.event_times_us[start:stop],
                    batch.payloads[start:stop],
                    strict=True,
                ):
                    self._script(
                        keys=[self._key(view, key)], args=[event_time, payload], client=pipe
                    )
                pipe.execute()
        except self._errors as error:
            raise StorageError(f"Redis online store failed: {error}") from None
        return len(batch)

    def read(
        self, requests: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[OnlineRecord | None]]:
        pipe = self._redis.pipeline(transaction=False)
        for view, keys in requests:
            for key in keys:
                pipe.hmget(self._key(view, key), ["t", "p"])
        try:
            replies: list[Any] = pipe.execute()
        except self._errors as error:
            raise StorageError(f"Redis online store failed: {error}") from None
        results: list[list[OnlineRecord | None]] = []
        position = 0
        for _view, keys in requests:
            records: list[OnlineRecord | None] = []
            for event_time, payload in replies[position : position + len(keys)]:
                records.append(
                    None
                    if payload is None
                    else OnlineRecord(int(event_time), orjson.loads(payload))
                )
            position += len(keys)
            results.append(records)
        return results

    def delete_view(self, view: str) -> int:
        pattern = self._key(view, "").translate(_GLOB_SPECIAL) + "*"
        deleted = 0
        try:
            batch: list[Any] = []
            for key in self._redis.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += int(self._redis.unlink(*batch))
                    batch = []
            if batch:
                deleted += int(self._redis.unlink(*batch))
        except self._errors as error:
            raise StorageError(f"Redis online store failed: {error}") from None
        return deleted

    def close(self) -> None:
        self._redis.close()
