"""Helpers for stream tests: specs, producers, a crash-injecting source, a consumer process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.streams import Message, StreamSource, read_committed

SCHEMA = {"id": "integer", "user": "string", "amount": "float", "ok": "boolean", "at": "timestamp"}


def spec(name: str, source: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "schema": SCHEMA,
        "nullable": ["amount"],
        "id_field": "id",
        "key_field": "user",
        "commit_every_records": 100,
        "commit_every_seconds": 0.2,
        "source": source or {"kind": "http"},
    }
    return base | overrides


def record(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "user": f"u{i % 7}",
        "amount": i * 0.5,
        "ok": i % 2 == 0,
        "at": 1_700_000_000 + i,
    }


def encoded(records: Sequence[dict[str, Any]]) -> list[tuple[str | None, bytes]]:
    return [(str(r.get("user")), orjson.dumps(r)) for r in records]


def committed_ids(platform: Platform, stream: str) -> list[int]:
    table = read_committed(platform, stream)
    return [] if table.num_rows == 0 else table.column("id").to_pylist()


class CrashBeforeAck(StreamSource):
    """Wraps a real source; after ``commits`` commits it dies between the DB commit and the ack."""

    class Died(BaseException):
        """Stands for the process being killed."""

    def __init__(self, inner: StreamSource, commits: int = 0) -> None:
        self.inner, self.left = inner, commits

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        return self.inner.poll(max_messages, timeout)

    def commit(self, messages: Sequence[Message]) -> None:
        if self.left == 0:
            raise CrashBeforeAck.Died
        self.left -= 1
        self.inner.commit(messages)

    def close(self) -> None:
        self.inner.close()


def consumer_process(settings: Settings, stream: str, *args: str) -> subprocess.Popen[bytes]:
    """``shipyard streams consume`` in its own process, on the test's stores."""
    env = dict(os.environ)
    env["SHIPYARD_HOME"] = str(settings.home)
    env["SHIPYARD_DATABASE_URL"] = settings.metadata_url
    env["SHIPYARD_ALLOWED_SOURCE_HOSTS"] = ",".join(settings.allowed_source_hosts)
    env.pop("SHIPYARD_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "shipyard", "streams", "consume", stream, "--json", *args],
        env=env,
        cwd=Path(__file__).parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
