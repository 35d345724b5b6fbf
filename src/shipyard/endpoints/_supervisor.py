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
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.features import binding_of
from shipyard.flavors import CODE_FLAVORS, open_bundle
from shipyard.platform import Platform
from shipyard.registry import code_grant
from shipyard.sandbox._launch import existing, local_stores
from shipyard.security import DatabaseKeySource, DatabaseLimitSource
from shipyard.serving import (
    DatabaseLink,
    LinkServer,
    VariantSpec,
    endpoint_generation,
    read_snapshot,
    remove_tree,
    shelve,
)
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    from shipyard.tls._server import ServerTLS

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
        self._endpoint_id: int | None = None
        self._shelving = threading.Lock()
        self._server = LinkServer(
            self.socket_path,
            load=self.load,
            generation=self.generation,
            link=DatabaseLink(platform, endpoint, _no_loading, url=url),
            keys=DatabaseKeySource(platform),
            limits=DatabaseLimitSource(platform),
        )

    def start(self) -> ServingSupervisor:
        """Shelve the endpoint's models now (a missing endpoint raises here), then answer."""
        self.load()
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop answering and delete the socket and the shelf."""
        self._server.stop()
        remove_tree(self.directory)

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


def _no_loading(model_version_id: int, runtime: str) -> Any:
    raise InvalidInput("the supervisor loads no models; its workers do", field="runtime")


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
def scrubbed_environment(platform: Platform) -> Iterator[None]:
    """While it lasts, processes started here inherit no credentials (``scrubbed``); the
    variables come back after. This process read its settings, and its blob and key
    clients resolved their credentials, before; PostgreSQL connections it opens meanwhile
    (a pool grows, a connection is replaced) still get what libpq read from ``PG*``
    variables (``libpq_environment``)."""
    from sqlalchemy import event

    engine = platform.db.engine
    given = libpq_environment() if engine.dialect.name == "postgresql" else {}

    def with_environment(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        for keyword, value in given.items():
            cparams.setdefault(keyword, value)  # the URL's own parameters still win

    if given:
        event.listen(engine, "do_connect", with_environment)
    removed = {k: v for k, v in os.environ.items() if k not in scrubbed(dict(os.environ))}
    for name in removed:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(removed)
        if given:
            event.remove(engine, "do_connect", with_environment)


def libpq_environment() -> dict[str, str]:
    """The connection parameters libpq takes from this environment (``PGPASSWORD`` as
    ``password``, ``PGSSLROOTCERT`` as ``sslrootcert`` ...), by libpq's own table."""
    from psycopg.pq import Conninfo

    return {
        option.keyword.decode(): option.val.decode()
        for option in Conninfo.get_defaults()
        if option.envvar is not None
        and option.val is not None
        and os.environ.get(option.envvar.decode())
    }


def worker_hidden_paths(settings: Settings) -> list[str]:
    """What a worker hides from itself: the database file, the key-encryption keys, a local
    blob store, the config file and the secrets' files the settings name."""
    home = settings.home
    found = [home / "keys", home / "config.yaml", *local_stores(settings)]
    found += [p for p in (settings.tls_key, settings.client_key, settings.ray_token_file) if p]
    return existing(found)


def serve_supervised(
    platform: Platform,
    endpoint: str,
    *,
    host: str,
    port: int,
    workers: int,
    url: str,
    tls: ServerTLS | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``endpoint`` with ``workers`` processes that hold none of the platform, until
    interrupted: this process answers them (``ServingSupervisor``) and keeps the platform."""
    from shipyard.endpoints._runtime import ServingWorkerFactory
    from shipyard.serving import serve

    settings = platform.settings
    supervisor = ServingSupervisor(platform, endpoint, url).start()
    try:
        factory = ServingWorkerFactory(
            worker_settings(settings),
            endpoint,
            str(supervisor.socket_path),
            url=url,
            workers=workers,
            cover=str(settings.home.resolve()),
            hide=tuple(worker_hidden_paths(settings)),
        )
        if on_ready is not None:
            on_ready()
        with scrubbed_environment(platform):
            serve(
                factory,
                host,
                port,
                workers,
                allow_remote=True,
                log_level="warning",
                tls=tls,
                processes=True,
            )
    finally:
        supervisor.stop()
