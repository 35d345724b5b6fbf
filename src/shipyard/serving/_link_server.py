"""The supervisor's side of the worker socket: requests decoded and answered by the platform's
own link, key source and limit source (``SocketLink`` and its siblings are the other side).

The socket lives in a private directory (0700) and is itself 0600. Each connection is
answered in order on a thread of its own; a request that fails gets the error document
(a malformed one ``InvalidInput``, a store failure ``StorageError``), and the connection
keeps answering.
"""

from __future__ import annotations

import logging
import os
import socketserver
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidInput, ShipyardError, document_of, error_document
from shipyard.security import KeySource, LimitSource
from shipyard.serving._audit import AuditRecord
from shipyard.serving._control import ControlLink, WorkerStatus
from shipyard.serving._socket_link import table_of
from shipyard.serving._stats import VariantTotals, WindowRow
from shipyard.serving._usage import UsageSample
from shipyard.serving._wire import LinkClosed, receive_message, send_message

logger = logging.getLogger(__name__)
Operation = Callable[[dict[str, Any], bytes], Any]


class LinkServer:
    """Answers workers on ``path``: ``load`` and ``generation`` given, the rest by ``link``
    (its writes), ``keys`` and ``limits``."""

    def __init__(
        self,
        path: Path,
        *,
        load: Callable[[], dict[str, Any]],
        generation: Callable[[], int | None],
        link: ControlLink,
        keys: KeySource,
        limits: LimitSource,
    ) -> None:
        self.path = path
        self._link, self._keys, self._limits = link, keys, limits
        self._ops: dict[str, Operation] = {
            "generation": lambda _, __: generation(),
            "load": lambda _, __: load(),
            "report": self._report,
            "feedback": lambda m, _: link.write_feedback(dict(m["labels"])),
            "capture": lambda m, p: link.write_capture(str(m["hour"]), table_of(p)),
            "audit": self._audit,
            "usage": lambda m, _: link.write_usage(str(m["worker"]), UsageSample(**m["sample"])),
            "leave": lambda m, _: link.leave(str(m["worker"])),
            "keys.snapshot": lambda _, __: keys.snapshot().to_wire(),
            "keys.generation": lambda _, __: keys.generation(),
            "keys.look_up": self._look_up,
            "keys.record_use": lambda m, _: keys.record_use(
                {str(k): datetime.fromisoformat(v) for k, v in m["used"].items()}
            ),
            "limits.defaults": lambda _, __: list(limits.defaults()),
            "limits.read": self._read_limits,
            "limits.generation": lambda _, __: limits.generation(),
            "limits.add_usage": lambda m, _: limits.add_usage(
                date.fromisoformat(m["day"]), {str(k): int(v) for k, v in m["pending"].items()}
            ),
        }
        self._server = _SocketServer(str(path), self)
        os.chmod(path, 0o600)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="serving-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def answer(self, message: dict[str, Any], payload: bytes) -> dict[str, Any]:
        """One worker request's answer: ``{"result": ...}`` or the error document."""
        name = str(message.get("op"))
        op = self._ops.get(name)
        if op is None:
            return error_document("InvalidInput", f"unknown operation {name!r}")
        try:
            return {"result": op(message, payload)}
        except ShipyardError as error:
            return document_of(error)
        except (KeyError, TypeError, ValueError) as error:
            return document_of(InvalidInput(f"a malformed {name} request: {error!r}"))
        except Exception as error:
            logger.exception("serving supervisor: %s failed", name)
            return error_document("StorageError", f"{type(error).__name__}: {error}")

    def _report(self, message: dict[str, Any], _: bytes) -> None:
        rows = [
            WindowRow(str(r["variant"]), float(r["window_start"]), VariantTotals(**r["totals"]))
            for r in message["rows"]
        ]
        self._link.report(WorkerStatus(**message["status"]), rows)

    def _audit(self, message: dict[str, Any], _: bytes) -> None:
        records = [
            AuditRecord(**(r | {"time": datetime.fromisoformat(r["time"])}))
            for r in message["records"]
        ]
        self._link.write_audit(records)

    def _look_up(self, message: dict[str, Any], _: bytes) -> dict[str, Any]:
        generation, found = self._keys.look_up(str(message["key_id"]))
        return {"generation": generation, "key": None if found is None else found.to_wire()}

    def _read_limits(self, _: dict[str, Any], __: bytes) -> dict[str, Any]:
        generation, rows = self._limits.limits()
        return {"generation": generation, "rows": [list(row) for row in rows]}


class _Handler(socketserver.BaseRequestHandler):
    """One worker connection: requests answered in order until it closes."""

    server: _SocketServer

    def handle(self) -> None:
        while True:
            try:
                message, payload = receive_message(self.request)
            except (LinkClosed, OSError):
                return
            send_message(self.request, self.server.link_server.answer(message, payload))


class _SocketServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, link_server: LinkServer) -> None:
        self.link_server = link_server
        super().__init__(path, _Handler)
