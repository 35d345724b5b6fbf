"""A serving worker's line to its supervisor: the control link, key cache and limits, by socket.

A worker started by ``shipyard serve --workers N`` holds no database, blob store or
encryption key. Everything it read or wrote through them goes to the supervising process
over a private Unix socket (``shipyard.serving._wire``), batched as the control loop
batches it: a generation poll, a snapshot (the variants, with the shelf path of each
model, decrypted there by the supervisor), heartbeats and window counts, and captures
(Arrow IPC), feedback, audit events and usage samples. The key cache is copied the same
way (key hashes and policies, never a secret) and requests are still decided from memory.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import StorageError, error_of
from shipyard.flavors._base import Predictor
from shipyard.security import CachedKey, KeySnapshot, LimitRow
from shipyard.serving._audit import AuditRecord
from shipyard.serving._config import EndpointConfig
from shipyard.serving._control import WorkerStatus
from shipyard.serving._enrich import EnricherLoader
from shipyard.serving._shelf import load_shelved
from shipyard.serving._snapshot import EndpointSnapshot, build_config
from shipyard.serving._stats import WindowRow
from shipyard.serving._usage import UsageSample
from shipyard.serving._wire import LinkClosed, receive_message, send_message

if TYPE_CHECKING:
    import pyarrow as pa

_IDLE_CONNECTIONS = 4


class SupervisorConnection:
    """Calls to the supervisor; threads calling at once use connections of their own."""

    def __init__(self, path: str | Path, *, timeout: float = 120.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def call(self, op: str, payload: bytes = b"", **arguments: Any) -> Any:
        """Send one request and wait for its answer; a refusal raises its error class."""
        with self._lock:
            sock = self._idle.pop() if self._idle else None
        try:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.path)
            send_message(sock, {"op": op, **arguments}, payload)
            document, _ = receive_message(sock)
        except OSError as exc:
            if sock is not None:
                sock.close()
            if isinstance(exc, StorageError):
                raise
            raise LinkClosed(f"the serving supervisor did not answer {op}: {exc}") from None
        with self._lock:
            if len(self._idle) < _IDLE_CONNECTIONS:
                self._idle.append(sock)
            else:
                sock.close()
        if "error" in document:
            raise error_of(document["error"])
        return document.get("result")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sock in idle:
            sock.close()


class SocketLink:
    """``ControlLink`` through the supervisor: what ``DatabaseLink`` does, done there."""

    def __init__(
        self,
        connection: SupervisorConnection,
        *,
        in_thread: bool = False,
        enrichers: EnricherLoader | None = None,
        load_model: Callable[[str], Predictor] = load_shelved,
    ) -> None:
        self.connection = connection
        self._in_thread = in_thread
        self._enrichers = enrichers
        self._load_model = load_model

    def generation(self) -> int | None:
        found = self.connection.call("generation")
        return None if found is None else int(found)

    def load(self, current: EndpointConfig | None) -> EndpointConfig:
        answer = self.connection.call("load")
        snapshot = EndpointSnapshot.from_wire(answer["snapshot"])
        shelf: dict[str, str] = answer["models"]
        return build_config(
            snapshot,
            current,
            lambda version_id, runtime: self._load_model(shelf[f"{version_id}/{runtime}"]),
            in_thread=self._in_thread,
            enrichers=self._enrichers,
        )

    def report(self, status: WorkerStatus, rows: list[WindowRow]) -> None:
        self.connection.call(
            "report",
            status=asdict(status),
            rows=[
                {
                    "variant": row.variant,
                    "window_start": row.window_start,
                    "totals": asdict(row.totals),
                }
                for row in rows
            ],
        )

    def write_feedback(self, labels: dict[str, Any]) -> None:
        self.connection.call("feedback", labels=labels)

    def write_capture(self, hour: str, table: pa.Table) -> None:
        self.connection.call("capture", arrow_ipc(table), hour=hour)

    def write_audit(self, records: list[AuditRecord]) -> None:
        self.connection.call(
            "audit", records=[asdict(r) | {"time": r.time.isoformat()} for r in records]
        )

    def write_usage(self, worker: str, sample: UsageSample) -> None:
        self.connection.call("usage", worker=worker, sample=asdict(sample))

    def leave(self, worker: str) -> None:
        try:
            self.connection.call("leave", worker=worker)
        finally:
            if self._enrichers is not None:
                self._enrichers.close()


class SocketKeySource:
    """``KeySource`` through the supervisor, which reads the metadata store for it."""

    def __init__(self, connection: SupervisorConnection) -> None:
        self.connection = connection

    def snapshot(self) -> KeySnapshot:
        return KeySnapshot.from_wire(self.connection.call("keys.snapshot"))

    def generation(self) -> int:
        return int(self.connection.call("keys.generation"))

    def look_up(self, key_id: str) -> tuple[int, CachedKey | None]:
        answer = self.connection.call("keys.look_up", key_id=key_id)
        found = answer["key"]
        return int(answer["generation"]), None if found is None else CachedKey.from_wire(found)

    def record_use(self, used: Mapping[str, datetime]) -> None:
        self.connection.call("keys.record_use", used={k: v.isoformat() for k, v in used.items()})


class SocketLimitSource:
    """``LimitSource`` through the supervisor."""

    def __init__(self, connection: SupervisorConnection) -> None:
        self.connection = connection

    def defaults(self) -> tuple[float | None, int | None, int | None]:
        rate, burst, quota = self.connection.call("limits.defaults")
        return rate, burst, quota

    def limits(self) -> tuple[int, list[LimitRow]]:
        answer = self.connection.call("limits.read")
        return int(answer["generation"]), [tuple(row) for row in answer["rows"]]

    def generation(self) -> int:
        return int(self.connection.call("limits.generation"))

    def add_usage(self, day: date, pending: Mapping[str, int]) -> dict[str, int]:
        totals = self.connection.call("limits.add_usage", day=day.isoformat(), pending=pending)
        return {str(k): int(v) for k, v in totals.items()}


def arrow_ipc(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def table_of(data: bytes) -> pa.Table:
    """The table an Arrow IPC stream holds."""
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
