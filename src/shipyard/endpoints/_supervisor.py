"""The serving supervisor: the one process of ``shipyard serve --workers N`` holding the platform.

It opens the metadata database and the blob store (and through them the key-encryption
key), and answers its workers on a Unix socket in a private directory (0700; the socket
0600): snapshots, each served model decrypted onto the shelf beside the socket, the key
cache's copy (key hashes, never secrets), limits, and the workers' batched writes
(heartbeats, window counts, captures, feedback, audit events, usage, key use). Workers
start with none of it (``ServingWorkerFactory``).
"""

from __future__ import annotations

import logging
import os
import socketserver
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound, ShipyardError, document_of, error_document
from shipyard.features import binding_of
from shipyard.flavors import CODE_FLAVORS, open_bundle
from shipyard.platform import Platform
from shipyard.registry import code_grant
from shipyard.security import DatabaseKeySource, DatabaseLimitSource
from shipyard.serving import DatabaseLink, WorkerStatus
from shipyard.serving._audit import AuditRecord
from shipyard.serving._link import endpoint_generation, read_snapshot
from shipyard.serving._shelf import remove_tree, shelve
from shipyard.serving._snapshot import VariantSpec
from shipyard.serving._socket_link import table_of
from shipyard.serving._stats import VariantTotals, WindowRow
from shipyard.serving._usage import UsageSample
from shipyard.serving._wire import LinkClosed, receive_message, send_message
from shipyard.store.metadata import tables as t

logger = logging.getLogger(__name__)
SOCKET = "control.sock"
SHELF = "models"


class ServingSupervisor:
    """Answers one endpoint's workers against the platform, from a private directory."""

    def __init__(self, platform: Platform, endpoint: str, url: str = "") -> None:
        self.platform = platform
        self.endpoint = endpoint
        self.directory = Path(tempfile.mkdtemp(prefix="shipyard-serve-"))
        self.socket_path = self.directory / SOCKET
        self.shelf = self.directory / SHELF
        self.shelf.mkdir(mode=0o700)
        self._link = DatabaseLink(platform, endpoint, _no_loading, url=url)
        self._keys = DatabaseKeySource(platform)
        self._limits = DatabaseLimitSource(platform)
        self._endpoint_id: int | None = None
        self._shelving = threading.Lock()
        self._ops: dict[str, Callable[[dict[str, Any], bytes], Any]] = {
            "generation": lambda _, __: self.generation(),
            "load": lambda _, __: self.load(),
            "report": self._report,
            "feedback": lambda m, _: self._link.write_feedback(dict(m["labels"])),
            "capture": lambda m, p: self._link.write_capture(str(m["hour"]), table_of(p)),
            "audit": self._audit,
            "usage": lambda m, _: self._link.write_usage(
                str(m["worker"]), UsageSample(**m["sample"])
            ),
            "leave": lambda m, _: self._link.leave(str(m["worker"])),
            "keys.snapshot": lambda _, __: self._keys.snapshot().to_wire(),
            "keys.generation": lambda _, __: self._keys.generation(),
            "keys.look_up": self._look_up,
            "keys.record_use": lambda m, _: self._keys.record_use(
                {k: datetime.fromisoformat(v) for k, v in m["used"].items()}
            ),
            "limits.defaults": lambda _, __: list(self._limits.defaults()),
            "limits.read": self._read_limits,
            "limits.generation": lambda _, __: self._limits.generation(),
            "limits.add_usage": lambda m, _: self._limits.add_usage(
                date.fromisoformat(m["day"]), {str(k): int(v) for k, v in m["pending"].items()}
            ),
        }
        self._server = _SocketServer(str(self.socket_path), self)
        os.chmod(self.socket_path, 0o600)
        self._thread: threading.Thread | None = None

    def start(self) -> ServingSupervisor:
        """Shelve the endpoint's models now (a missing endpoint raises here), then answer."""
        self.load()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="serving-supervisor", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and delete the socket and the shelf."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()
        remove_tree(self.directory)

    def answer(self, message: dict[str, Any], payload: bytes) -> dict[str, Any]:
        """One worker request's answer: ``{"result": ...}`` or the error document."""
        op = self._ops.get(str(message.get("op")))
        if op is None:
            return error_document("InvalidInput", f"unknown operation {message.get('op')!r}")
        try:
            return {"result": op(message, payload)}
        except ShipyardError as error:
            return document_of(error)
        except (KeyError, TypeError, ValueError) as error:
            return document_of(InvalidInput(f"a malformed {message['op']} request: {error!r}"))
        except Exception as error:
            logger.exception("serving supervisor: %s failed", message.get("op"))
            return error_document("StorageError", f"{type(error).__name__}: {error}")

    def generation(self) -> int | None:
        if self._endpoint_id is None:
            return None
        with self.platform.db.session() as session:
            return endpoint_generation(session, self._endpoint_id)

    def load(self) -> dict[str, Any]:
        """The endpoint's snapshot, and where on the shelf each of its models lies."""
        with self.platform.db.session() as session:
            self._endpoint_id, snapshot = read_snapshot(session, self.endpoint, binding_of)
        models = {
            f"{v.model_version_id}/{v.runtime}": str(self._shelve(v)) for v in snapshot.variants
        }
        return {"snapshot": snapshot.to_wire(), "models": models}

    def _shelve(self, spec: VariantSpec) -> Path:
        """Decrypt one (version, runtime) onto the shelf unless it is there already."""
        with self.platform.db.session() as session:
            version = session.get(t.ModelVersion, spec.model_version_id)
            if version is None:
                raise NotFound(
                    f"model version {spec.model_version_id} does not exist", field="model"
                )
            manifest: dict[str, Any] = {"signature": version.signature, "code": None}
            if spec.runtime == "onnx":
                from shipyard.edge import latest_export

                export = latest_export(session, spec.model_version_id, "onnx")
                if export is None:
                    raise NotFound(
                        f"model version {spec.model_version_id} has no ONNX export",
                        field="runtime",
                    )
                manifest |= {"flavor": export.format, "digest": export.digest}
            elif spec.runtime == "native":
                grant = code_grant(version)
                manifest |= {"flavor": version.flavor, "digest": version.digest}
                if grant is not None:
                    manifest["code"] = {
                        "digest": grant.digest,
                        "registered_by": grant.registered_by,
                    }
            else:
                raise InvalidInput(f"unknown runtime {spec.runtime!r}", field="runtime")
        digest = str(manifest["digest"])
        name = f"{spec.model_version_id}-{spec.runtime}-{digest.removeprefix('sha256:')[:16]}"
        with self._shelving:
            if (self.shelf / name).is_dir():
                return self.shelf / name
            artifact = self.platform.blobs.get_bytes(digest)
            files: dict[str, bytes] = {}
            if manifest["flavor"] in CODE_FLAVORS:  # its files, read as loading reads them

                def fetch(found: str) -> bytes:
                    files[found] = self.platform.blobs.get_bytes(found)
                    return files[found]

                open_bundle(artifact, fetch, code_grant(version))
            return shelve(self.shelf, name, manifest, artifact, files)

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


def _no_loading(model_version_id: int, runtime: str) -> Any:
    raise InvalidInput("the supervisor loads no models; its workers do", field="runtime")


class _Handler(socketserver.BaseRequestHandler):
    """One worker connection: requests answered in order until it closes."""

    server: _SocketServer

    def handle(self) -> None:
        while True:
            try:
                message, payload = receive_message(self.request)
            except (LinkClosed, OSError):
                return
            send_message(self.request, self.server.supervisor.answer(message, payload))


class _SocketServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, supervisor: ServingSupervisor) -> None:
        self.supervisor = supervisor
        super().__init__(path, _Handler)


SCRUBBED_PREFIXES = ("SHIPYARD_", "AWS_", "PG", "AZURE_", "GOOGLE_")
"""Environment variables a serving worker never inherits: Shipyard's settings (the worker gets
its own, stripped), cloud and database credentials."""


def scrubbed(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without credentials, settings or database URLs."""
    return {
        k: v
        for k, v in environ.items()
        if not k.upper().startswith(SCRUBBED_PREFIXES) and "DATABASE_URL" not in k.upper()
    }


def worker_settings(settings: Settings) -> Settings:
    """The settings a worker gets: no database or blob store, no key-encryption key, no keys."""
    return settings.model_copy(
        update={
            "database_url": None,
            "blob_url": None,
            "blob_storage_options": {},
            "kek_id": None,
            "kms_endpoint_url": None,
            "api_key": None,
            "tls_key": None,
            "client_key": None,
            "ray_token_file": None,
        }
    )


@contextmanager
def scrubbed_environment() -> Iterator[None]:
    """While it lasts, processes started here inherit no credentials (``scrubbed``); the
    variables come back after (this process read its settings, and its stores hold
    their clients, before)."""
    removed = {k: v for k, v in os.environ.items() if k not in scrubbed(dict(os.environ))}
    for name in removed:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(removed)


def worker_hidden_paths(settings: Settings) -> list[str]:
    """What a worker hides from itself: the database file, the key-encryption keys, a local
    blob store, the config file and the secrets' files the settings name."""
    home = settings.home
    found = [home / "keys", home / "config.yaml"]
    url = settings.metadata_url
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        found += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    blobs = settings.blobs_url
    if "://" not in blobs or blobs.startswith("file://"):
        found.append(Path(blobs.removeprefix("file://")))
    if os.environ.get("SHIPYARD_CONFIG"):
        found.append(Path(os.environ["SHIPYARD_CONFIG"]))
    found += [p for p in (settings.tls_key, settings.client_key, settings.ray_token_file) if p]
    return sorted({str(p.resolve()) for p in found if p.exists()})
