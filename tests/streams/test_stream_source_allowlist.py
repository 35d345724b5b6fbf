"""The server connects only to broker URLs its settings allow, at creation and at connect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamkit import committed_ids, record, spec

from shipyard.config import Settings, load_settings
from shipyard.errors import Conflict, InvalidInput
from shipyard.platform import Platform
from shipyard.security import RequestContext, context_for
from shipyard.streams import (
    StreamSpec,
    consume,
    create_stream,
    list_streams,
    put_records,
)
from shipyard.streams._allowlist import source_url_problem

DEFAULT = Settings()
PRIVATE = Settings(allowed_source_hosts=["10.0.0.0/8", "redis.internal", "fd00::/8"])
UNIX = Settings(allowed_source_schemes=["redis", "unix"])


def redis_source(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "redis", "url": url, "claim_idle_seconds": 5} | extra


def problem(settings: Settings, source: dict[str, Any]) -> str | None:
    stream = StreamSpec.model_validate(spec("s", source))
    return source_url_problem(settings, stream.source)


@pytest.mark.parametrize(
    ("settings", "url"),
    [
        (DEFAULT, "redis://127.0.0.1:6379/0"),
        (DEFAULT, "redis://:secret@localhost/0"),
        (DEFAULT, "rediss://LOCALHOST:6380"),
        (DEFAULT, "redis://[::1]:6379"),
        (DEFAULT, "redis://[::ffff:127.0.0.1]:6379"),
        (PRIVATE, "redis://10.20.30.40:6379/1"),
        (PRIVATE, "redis://Redis.Internal"),
        (PRIVATE, "rediss://[fd12::5]:6380"),
        (UNIX, "unix:///run/redis/redis.sock"),
    ],
)
def test_allowed_redis_urls(settings: Settings, url: str) -> None:
    assert problem(settings, redis_source(url)) is None


@pytest.mark.parametrize(
    ("settings", "url", "reason"),
    [
        (DEFAULT, "redis://10.0.0.5:6379/0", "host '10.0.0.5' is not in"),
        (DEFAULT, "redis://169.254.169.254/0", "not in the server's allowed_source_hosts"),
        (DEFAULT, "redis://0.0.0.0/0", "host '0.0.0.0' is not in"),
        (DEFAULT, "redis://evil.example.com/0", "hostnames must be listed literally"),
        (DEFAULT, "redis://127.0.0.1.nip.io/0", "is not in"),
        (DEFAULT, "redis://2130706433/0", "is not in"),
        (DEFAULT, "redis://local%68ost/0", "is not in"),
        (DEFAULT, "redis://[::ffff:10.0.0.1]:6379", "is not in"),
        (DEFAULT, "unix:///var/run/docker.sock", "scheme 'unix' is not in"),
        (DEFAULT, "redis:///0?host=10.0.0.5", "query string"),
        (DEFAULT, "redis://127.0.0.1/0?unix_socket_path=/var/run/x.sock", "query string"),
        (DEFAULT, "redis://127.0.0.1:99999/0", "not a valid URL"),
        (DEFAULT, "redis://:pw@/0", "names no host"),
        (PRIVATE, "redis://11.0.0.1/0", "is not in"),
        (PRIVATE, "redis://sub.redis.internal/0", "is not in"),
        (PRIVATE, "redis://localhost/0", "is not in"),
        (UNIX, "rediss://127.0.0.1/0", "scheme 'rediss' is not in"),
    ],
)
def test_refused_redis_urls(settings: Settings, url: str, reason: str) -> None:
    found = problem(settings, redis_source(url))
    assert found is not None and reason in found


def test_nats_schemes_follow_the_allowlist_too() -> None:
    assert problem(DEFAULT, {"kind": "nats", "url": "nats://127.0.0.1:4222"}) is None
    assert problem(DEFAULT, {"kind": "nats", "url": "tls://localhost:4222"}) is None
    refused = problem(DEFAULT, {"kind": "nats", "url": "ws://127.0.0.1:8080"})
    assert refused is not None and "scheme 'ws' is not in" in refused
    remote = problem(DEFAULT, {"kind": "nats", "url": "nats://nats.example.com:4222"})
    assert remote is not None and "is not in" in remote
    websockets = Settings(allowed_source_schemes=["wss"], allowed_source_hosts=["nats.internal"])
    assert problem(websockets, {"kind": "nats", "url": "wss://nats.internal"}) is None


def test_passwords_never_appear_in_the_reason() -> None:
    found = problem(DEFAULT, redis_source("redis://:hunter2@127.0.0.1/0?x=1"))
    assert found is not None and "hunter2" not in found and "***" in found


def test_the_allowlist_reads_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SHIPYARD_HOME": str(tmp_path),
            "SHIPYARD_ALLOWED_SOURCE_HOSTS": "10.0.0.0/8, Redis.Internal",
            "SHIPYARD_ALLOWED_SOURCE_SCHEMES": "redis,unix",
        }
    )
    assert settings.allowed_source_hosts == ["10.0.0.0/8", "redis.internal"]
    assert settings.allowed_source_schemes == ["redis", "unix"]
    with pytest.raises(InvalidInput) as caught:
        load_settings({"SHIPYARD_HOME": str(tmp_path), "SHIPYARD_ALLOWED_SOURCE_HOSTS": "a b"})
    assert caught.value.field == "allowed_source_hosts"


def test_creating_a_stream_with_a_refused_url_is_a_400_that_stores_nothing(
    platform: Platform, api_server: Any, admin_key: str
) -> None:
    body = {"spec": spec("remote", redis_source("redis://10.0.0.5:6379/0"))}
    response = httpx.post(
        f"{api_server.url}/api/v1/streams",
        json=body,
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == "spec.source.url"
    assert "host '10.0.0.5' is not in the server's allowed_source_hosts" in error["message"]
    assert list_streams(context_for(platform, "admin")) == []


@pytest.fixture
def narrowed(settings: Settings) -> Iterator[Platform]:
    """The same installation reopened after its allowlist lost loopback."""
    opened = Platform.open(settings.model_copy(update={"allowed_source_hosts": ["192.0.2.0/24"]}))
    yield opened
    opened.close()


def test_a_stored_stream_is_refused_at_connect_once_its_host_is_no_longer_allowed(
    platform: Platform,
    admin: RequestContext,
    narrowed: Platform,
    redis_url: str,
    redis_key: str,
) -> None:
    source = redis_source(redis_url, key=redis_key, claim_idle_seconds=0.5)
    create_stream(admin, StreamSpec.model_validate(spec("live", source)))
    put_records(admin, "live", [record(1), record(2)])
    consume(admin, "live", idle_exit=0.3)
    assert committed_ids(platform, "live") == [1, 2]  # the positive control, on live Redis

    later = context_for(narrowed, "admin")
    with pytest.raises(Conflict) as at_consume:
        consume(later, "live", idle_exit=0.3)
    assert at_consume.value.field == "spec.source.url"
    assert "stream 'live' version 1 cannot connect" in at_consume.value.message
    with pytest.raises(Conflict):
        put_records(later, "live", [record(3)])
    assert committed_ids(platform, "live") == [1, 2]
