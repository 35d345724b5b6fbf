"""A worker's background thread: hot reload, stats and heartbeats; capture, feedback, audit writes.

Every 0.25 s it asks the control plane for the endpoint's generation (one
small query, never on the event loop). On a change it builds the new
snapshot, loading models for new variants first, and swaps it in; a model
that fails to load leaves the old snapshot serving and is reported. Once a
second it reports the worker's heartbeat and its per-variant window counts; once a minute
(``usage_seconds``) a sample of what the worker used (CPU seconds, memory).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.serving._capture import capture_tables, hour_of
from shipyard.serving._stats import StatsWindows, WindowRow
from shipyard.serving._usage import UsageSample, UsageSampler

if TYPE_CHECKING:
    import pyarrow as pa

    from shipyard.serving._app import ServingApp
    from shipyard.serving._audit import AuditRecord
    from shipyard.serving._config import EndpointConfig

logger = logging.getLogger(__name__)
RETRY_FAILED_SECONDS = 5.0
_LOG_EVERY_SECONDS = 30.0


@dataclass(frozen=True)
class WorkerStatus:
    """What a worker tells the control plane about itself in each heartbeat."""

    worker: str
    generation: int
    variants: list[str]
    failed_generation: int | None
    error: str
    started_at: float
    heartbeat_at: float


class ControlLink(Protocol):
    """The data plane's line to the control plane (the metadata and blob stores)."""

    def generation(self) -> int | None:
        """The endpoint's current generation, or None when it no longer exists."""
        ...

    def load(self, current: EndpointConfig | None) -> EndpointConfig:
        """The endpoint's snapshot now, reusing ``current``'s loaded models where unchanged."""
        ...

    def report(self, status: WorkerStatus, rows: list[WindowRow]) -> None:
        """Store the heartbeat and upsert this worker's window rows."""
        ...

    def write_feedback(self, labels: dict[str, Any]) -> None: ...

    def write_capture(self, hour: str, table: pa.Table) -> None: ...

    def write_audit(self, records: list[AuditRecord]) -> None:
        """Append data-plane events to the audit trail, in one transaction."""
        ...

    def write_usage(self, worker: str, sample: UsageSample) -> None:
        """Store what this worker used since its previous sample."""
        ...

    def leave(self, worker: str) -> None:
        """Remove this worker's heartbeat on a clean shutdown."""
        ...


def worker_id() -> str:
    """This process, as variant_stats and heartbeats name it."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class ControlLoop:
    """Runs the periodic work of one serving worker on a daemon thread."""

    def __init__(self, app: ServingApp, link: ControlLink, worker: str | None = None) -> None:
        self.app = app
        self.link = link
        self.worker = worker or worker_id()
        self.settings = app.settings
        self.started_at = time.time()
        self.failed_generation: int | None = None
        self.error = ""
        self.reload_failures = 0
        self._failed_at = 0.0
        self._reported_at = 0.0
        self._flushed_at = time.monotonic()
        self._usage = UsageSampler()
        self._sampled_at = time.monotonic()
        self._windows = StatsWindows()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_log: dict[str, float] = {}

    def start(self) -> None:
        if self._thread is None:
            logger.info(
                "serving worker %s started: endpoint %s, generation %d",
                self.worker,
                self.app.endpoint_name,
                self.app.config.generation,
            )
            self._guard("report", self._report)
            self._thread = threading.Thread(target=self._run, name="serving-control", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling, then write all still held: audit events, stats, feedback, captures."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._lock:
            self._guard("audit", self._flush_audit)
            self._guard("feedback", self._flush_feedback)
            self._guard("capture", lambda: self._flush_captures(force=True))
            self._guard("report", self._report)
            self._guard("usage", self._sample_usage)
            self._guard("leave", lambda: self.link.leave(self.worker))

    def _run(self) -> None:
        while not self._stop.wait(self.settings.poll_seconds):
            with self._lock:
                self.tick()

    def tick(self) -> None:
        """One round of periodic work; every step survives the others failing."""
        self._guard("reload", self._poll)
        if time.monotonic() - self._reported_at >= self.settings.report_seconds:
            self._guard("report", self._report)
        if time.monotonic() - self._sampled_at >= self.settings.usage_seconds:
            self._guard("usage", self._sample_usage)
        self._guard("audit", self._flush_audit)
        self._guard("feedback", self._flush_feedback)
        self._guard("capture", lambda: self._flush_captures(force=False))

    def _guard(self, step: str, action: Any) -> None:
        try:
            action()
        except Exception:
            now = time.monotonic()
            if now - self._last_log.get(step, -_LOG_EVERY_SECONDS) >= _LOG_EVERY_SECONDS:
                self._last_log[step] = now
                logger.exception("serving worker %s: %s failed", self.worker, step)

    def _poll(self) -> None:
        generation = self.link.generation()
        current = self.app.config
        if generation is None or generation == current.generation:
            return
        retry_at = self._failed_at + RETRY_FAILED_SECONDS
        if generation == self.failed_generation and time.monotonic() < retry_at:
            return
        try:
            config = self.link.load(current)
        except Exception as exc:
            self.failed_generation = generation
            self._failed_at = time.monotonic()
            self.error = f"{type(exc).__name__}: {exc}"[:2000]
            self.reload_failures += 1
            logger.error(
                "endpoint %s: generation %d not loaded, still serving generation %d: %s",
                self.app.endpoint_name,
                generation,
                current.generation,
                self.error,
            )
            self._report()
            return
        self.app.install(config)
        self.failed_generation = None
        self.error = ""
        logger.info(
            "endpoint %s: serving generation %d (%s)",
            self.app.endpoint_name,
            config.generation,
            ", ".join(
                f"{v.name}={v.slot.model_name}@{v.slot.model_version}" for v in config.variants
            ),
        )
        self._report()

    def _report(self) -> None:
        now = time.time()
        config = self.app.config
        status = WorkerStatus(
            worker=self.worker,
            generation=config.generation,
            variants=[v.name for v in config.variants],
            failed_generation=self.failed_generation,
            error=self.error,
            started_at=self.started_at,
            heartbeat_at=now,
        )
        rows = self._windows.rows(self.app.variant_totals(), now)
        self.link.report(status, rows)
        self._reported_at = time.monotonic()

    def _sample_usage(self) -> None:
        self._sampled_at = time.monotonic()
        self.link.write_usage(self.worker, self._usage.sample())

    def _flush_audit(self) -> None:
        buffer = self.app.audit
        records = buffer.drain()
        if not records:
            return
        try:
            self.link.write_audit(records)
        except Exception:
            buffer.requeue(records)
            raise

    def _flush_feedback(self) -> None:
        if not len(self.app.feedback):
            return
        labels = self.app.feedback.drain()
        try:
            self.link.write_feedback(labels)
        except Exception:
            self.app.feedback.extend(list(labels.items()))
            raise

    def _flush_captures(self, *, force: bool) -> None:
        buffer = self.app.captures
        size = self.settings.capture_flush_rows
        while len(buffer) and (
            force
            or len(buffer) >= size
            or time.time() - buffer.oldest >= self.settings.capture_flush_seconds
        ):
            records = buffer.drain(size)
            written: set[str] = set()
            try:
                for hour, table in capture_tables(records).items():
                    self.link.write_capture(hour, table)
                    written.add(hour)
            except Exception:
                buffer.requeue([r for r in records if hour_of(r.time) not in written])
                raise
