"""kill -9 of a consumer process mid-stream, then a restart: no record lost, none duplicated."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import orjson
import pytest
from streamkit import committed_ids, consumer_process, encoded, record, spec

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import RequestContext
from shipyard.streams import (
    StreamSpec,
    create_stream,
    get_stream,
    list_commits,
    load_stream,
    open_producer,
)

CHUNK = 50
PRELOAD = 400
TOTAL = 3_000
IDLE_EXIT = {"redis": "1.0", "nats": "2.0"}  # NATS redelivers after ack_wait (1 s)


def source(request: pytest.FixtureRequest, broker: str) -> dict[str, object]:
    if broker == "redis":
        url, key = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_key")
        return {"kind": "redis", "url": url, "key": key, "claim_idle_seconds": 1.0}
    url = request.getfixturevalue("nats_url")
    stream, subject = request.getfixturevalue("jetstream")
    return {
        "kind": "nats",
        "url": url,
        "stream": stream,
        "subject": subject,
        "ack_wait_seconds": 1.0,
    }


class Producer(threading.Thread):
    """Sends records in small chunks, about 1000 a second, as a live producer would."""

    def __init__(self, platform: Platform, name: str) -> None:
        super().__init__(daemon=True)
        with platform.db.session() as session:
            stream = load_stream(session, name)
        self.producer = open_producer(platform, stream)
        self.sent = 0

    def send(self, count: int) -> None:
        self.producer.publish(encoded([record(self.sent + i) for i in range(count)]))
        self.sent += count

    def run(self) -> None:
        with self.producer:
            while self.sent < TOTAL:
                self.send(CHUNK)
                time.sleep(0.05)


def wait_for_commits(admin: RequestContext, name: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(list_commits(admin, name)) < count:
        assert time.monotonic() < deadline, "the consumer made no progress"
        time.sleep(0.05)


@pytest.fixture
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database per broker here; the in-process crash tests cover both on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'home' / 'shipyard.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.mark.parametrize(
    ("broker", "metadata_url"),
    [("redis", "postgres"), ("nats", "sqlite")],
    indirect=["metadata_url"],
)
def test_kill_9_mid_stream_then_restart_loses_and_duplicates_nothing(
    broker: str,
    request: pytest.FixtureRequest,
    settings: Settings,
    platform: Platform,
    admin: RequestContext,
) -> None:
    create_stream(
        admin,
        StreamSpec.model_validate(spec("crash", source(request, broker), commit_every_records=200)),
    )
    producer = Producer(platform, "crash")
    producer.send(PRELOAD)
    first = consumer_process(settings, "crash")
    try:
        wait_for_commits(admin, "crash", 1)
        producer.start()
        wait_for_commits(admin, "crash", 3)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert producer.is_alive(), "the producer should still be sending when the consumer dies"
    producer.join()

    second = consumer_process(settings, "crash", "--idle-exit", IDLE_EXIT[broker])
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err.decode()
    summary = orjson.loads(out)
    assert summary["stopped"] == "idle"

    ids = committed_ids(platform, "crash")
    assert len(ids) == len(set(ids)), "a record was committed twice"
    assert sorted(ids) == list(range(producer.sent)), "a record was lost"
    info = get_stream(admin, "crash")
    assert info.committed_records == producer.sent
