"""The consumer loop: poll, validate, buffer, commit every N records or T seconds, then ack."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shipyard.platform import Platform
from shipyard.schemas.streams import ConsumeSummary
from shipyard.streams._buffer import RecordBuffer
from shipyard.streams._commit import CommitResult, LoadedStream, commit_buffer
from shipyard.streams._online import OnlineSink
from shipyard.streams._records import RecordSchema
from shipyard.streams._source import StreamSource

MAX_POLL = 5_000
_IDLE_POLL_SECONDS = 0.5


class StreamConsumer:
    """Runs one stream's consumer until ``stop`` is set, it idles, or it has seen enough.

    Records are committed before their messages are acknowledged, so stopping at any
    point (even SIGKILL) loses nothing; a clean stop commits what is buffered first.
    """

    def __init__(
        self,
        platform: Platform,
        stream: LoadedStream,
        source: StreamSource,
        *,
        principal: str = "system",
        online: OnlineSink | None = None,
        on_commit: Callable[[CommitResult], None] | None = None,
    ) -> None:
        self.platform, self.stream, self.source = platform, stream, source
        self.principal = principal
        self.online, self.on_commit = online, on_commit
        self.buffer = RecordBuffer(RecordSchema(stream.spec))
        self.summary = ConsumeSummary(stream=stream.name)

    def run(
        self,
        stop: threading.Event | None = None,
        *,
        idle_exit: float | None = None,
        max_records: int | None = None,
    ) -> ConsumeSummary:
        """Consume until stopped; ``idle_exit`` ends after that many seconds with nothing new."""
        spec = self.stream.spec
        last_seen = time.monotonic()
        while True:
            if stop is not None and stop.is_set():
                self.summary.stopped = "stopped"
                break
            room = max(1, min(spec.commit_every_records - len(self.buffer), MAX_POLL))
            wait = _IDLE_POLL_SECONDS
            if self.buffer:
                wait = min(wait, spec.commit_every_seconds - self.buffer.age())
            if idle_exit is not None:
                wait = min(wait, idle_exit - (time.monotonic() - last_seen))
            messages = self.source.poll(room, max(0.01, wait))
            self.buffer.extend(messages)
            self.summary.received += len(messages)
            now = time.monotonic()
            if messages:
                last_seen = now
            if len(self.buffer) >= spec.commit_every_records or (
                self.buffer and self.buffer.age() >= spec.commit_every_seconds
            ):
                self.flush()
            if max_records is not None and self.summary.received >= max_records:
                self.summary.stopped = "max_records"
                break
            if idle_exit is not None and not messages and now - last_seen >= idle_exit:
                self.summary.stopped = "idle"
                break
        self.flush()
        return self.summary

    def flush(self) -> CommitResult | None:
        """Commit the buffer, then acknowledge its messages; None when it was empty."""
        if not self.buffer:
            return None
        result = commit_buffer(self.platform, self.stream, self.buffer, self.principal)
        self.source.commit(self.buffer.messages)
        self.buffer.clear()
        self.summary.committed += result.rows
        self.summary.rejected += result.rejected
        self.summary.duplicates += result.duplicates
        self.summary.commits += 1 if result.info is not None else 0
        if self.online is not None and result.table is not None and result.table.num_rows:
            self.online.write(result.table)
        if self.on_commit is not None:
            self.on_commit(result)
        return result
