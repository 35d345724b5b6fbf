"""Stream fixtures: the real Redis and NATS JetStream on loopback, with per-test names."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import redis
from tests.conftest import service_unavailable

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for

REDIS_URL = os.environ.get("SHIPYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("SHIPYARD_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        service_unavailable(f"Redis at {REDIS_URL} is not reachable: {error}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def nats_url() -> str:
    parts = urlsplit(NATS_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 4222), timeout=2).close()
    except OSError as error:
        service_unavailable(f"NATS at {NATS_URL} is not reachable: {error}")
    return NATS_URL


@pytest.fixture
def redis_key(redis_url: str) -> Iterator[str]:
    """A fresh Redis stream key, deleted afterwards."""
    key = f"shipyard-test:{uuid.uuid4().hex[:12]}"
    yield key
    client = redis.Redis.from_url(redis_url)
    client.delete(key)
    client.close()


@pytest.fixture
def jetstream(nats_url: str) -> Iterator[tuple[str, str]]:
    """A fresh JetStream stream name and subject; the stream is deleted afterwards."""
    token = uuid.uuid4().hex[:12]
    names = (f"TEST_{token}", f"shipyard-test.{token}")
    yield names

    async def delete() -> None:
        import nats
        import nats.js.errors

        client = await nats.connect(nats_url)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(names[0])
        await client.close()

    asyncio.run(delete())


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings, also allowing the test brokers' hosts (CI may not run them on
    loopback, and stream sources may only connect to allowed hosts)."""
    hosts = [urlsplit(url).hostname or "" for url in (REDIS_URL, NATS_URL)]
    allowed = list(dict.fromkeys([*settings.allowed_source_hosts, *filter(None, hosts)]))
    return settings.model_copy(update={"allowed_source_hosts": allowed})


@pytest.fixture
def admin(platform: Platform) -> RequestContext:
    return context_for(platform, "admin")
