"""Shared fixtures: real metadata backends (SQLite, PostgreSQL), a platform, and SDK clients.

PostgreSQL comes from ``SHIPYARD_TEST_POSTGRES_URL`` (default: the local server
on 127.0.0.1:5432, database ``test``). When it cannot be reached the tests that
need it skip with the reason, unless ``SHIPYARD_REQUIRE_SERVICES=1``, which
turns the skip into a failure (CI sets it).

``make test`` runs the suite in two processes (pytest-xdist ``-n 2 --dist loadfile``), so
tests of two different files may run at the same moment. A test is parallel-safe when it takes
what it shares from these fixtures instead of fixed names: ``tmp_path`` for files (never a
fixed /tmp path or the home directory), ``postgres_url`` / ``metadata_url`` (a fresh database
per test, so tables never meet), ``s3_storage_options`` (a fresh bucket), the streams and
features ``redis_url`` / ``redis_key`` / ``jetstream`` fixtures (per-test key prefixes and
stream names), port 0 or ``free_port()`` for servers, and its own Ray temp dir with
``address="local"``. A file's tests all run in one worker, in order, so module fixtures are
made once; session fixtures are made once per worker. Tests that must share one process (the
Spark JVM, say) stay in one file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import sqlalchemy as sa
import uvicorn
from moto.server import ThreadedMotoServer

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none
from shipyard.store.metadata import Database

POSTGRES_URL = os.environ.get(
    "SHIPYARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("SHIPYARD_REQUIRE_SERVICES") == "1"


S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(autouse=True)
def fresh_cli_state() -> Iterator[None]:
    """Tests that call the CLI's ``main`` in this process share its module state (the
    settings it read, its client); each test leaves it as a fresh process has it, so no
    test's home or server reaches the next test's commands."""
    yield
    context = sys.modules.get("shipyard.cli._context")
    if context is None:
        return
    state = context.STATE
    if state._client is not None:
        with contextlib.suppress(Exception):
            state._client.close()
    fresh = context.CliState()
    for field in dataclasses.fields(fresh):
        setattr(state, field.name, getattr(fresh, field.name))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server on a free loopback port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    """A boto3 client for the moto server, to inspect or tamper with objects directly."""
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **S3_CREDENTIALS)


@pytest.fixture
def s3_storage_options(s3_endpoint: str, s3_client: Any) -> dict[str, Any]:
    """A fresh, empty bucket: ``{"url": "s3://<bucket>/<prefix>", "storage_options": {...}}``."""
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(Bucket=bucket)
    return {
        "url": f"s3://{bucket}/shipyard",
        "storage_options": {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
        },
    }


def service_unavailable(reason: str) -> None:
    """Skip, or fail when the services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (SHIPYARD_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as error:
        engine.dispose()
        service_unavailable(f"PostgreSQL at {POSTGRES_URL} is not reachable: {error}")
    yield engine
    engine.dispose()


_SCHEMA = "shipyard"


def _database_url(database: str) -> str:
    """POSTGRES_URL on another database of the same server, its search_path ``_SCHEMA``."""
    url = sa.make_url(POSTGRES_URL).set(database=database)
    rendered = url.render_as_string(hide_password=False)
    separator = "&" if "?" in rendered else "?"
    return f"{rendered}{separator}options=-csearch_path%3D{_SCHEMA}"


class _Dropper:
    """Drops the tests' databases in a background thread (a drop can take seconds while
    the server checkpoints), all of them gone when the session ends."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (name := self.queue.get()) is not None:
            with self.engine.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=300)


@pytest.fixture(scope="session")
def postgres_template(postgres_engine: sa.Engine) -> Iterator[tuple[str, _Dropper]]:
    """A database migrated once a session, copied for each test (CREATE DATABASE ...
    TEMPLATE takes a fraction of a second; migrating a fresh one, several)."""
    template = f"sy_template_{uuid.uuid4().hex[:12]}"
    with postgres_engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{template}"'))
    engine = sa.create_engine(sa.make_url(POSTGRES_URL).set(database=template))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{_SCHEMA}"'))
    engine.dispose()
    migrated = Database(_database_url(template))
    migrated.upgrade()
    migrated.dispose()
    dropper = _Dropper(postgres_engine)
    yield template, dropper
    dropper.queue.put(template)
    dropper.close()


@pytest.fixture
def postgres_url(
    postgres_engine: sa.Engine, postgres_template: tuple[str, _Dropper]
) -> Iterator[str]:
    """A URL of a fresh database of this test's own, already migrated (a copy of the
    session's template), its search_path the schema the tables are in."""
    template, dropper = postgres_template
    name = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _database_url(name)
    dropper.queue.put(name)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, never migrated, on SQLite and on PostgreSQL: for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'shipyard.db'}"
        return
    engine: sa.Engine = request.getfixturevalue("postgres_engine")
    _, dropper = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    schema_engine = sa.create_engine(sa.make_url(POSTGRES_URL).set(database=name))
    with schema_engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{_SCHEMA}"'))
    schema_engine.dispose()
    yield _database_url(name)
    dropper.queue.put(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite metadata database migrated once a session, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "shipyard.db"
    migrated = Database(f"sqlite:///{path}")
    migrated.upgrade()
    migrated.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that uses it runs once on SQLite and once on PostgreSQL, each time on a
    database of its own, already migrated."""
    if request.param == "sqlite":
        path = tmp_path / "home" / "shipyard.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path, metadata_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=metadata_url, key_cache_seconds=0.2)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    opened = Platform.open(settings)
    bootstrap(opened)
    yield opened
    opened.close()


@pytest.fixture
def admin_key(platform: Platform) -> str:
    key = issue_admin_key_if_none(platform)
    assert key is not None
    return key.token


class LiveServer:
    """A uvicorn server on a free 127.0.0.1 port, in a thread, stopped by ``close``."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server did not start")
            threading.Event().wait(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def api_server(platform: Platform) -> Iterator[LiveServer]:
    """The REST control plane, really listening on 127.0.0.1."""
    live = LiveServer(create_app(platform))
    yield live
    live.close()


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Client]:
    """The SDK, in-process and over HTTP against a live server: one suite, both transports."""
    if request.param == "local":
        sdk = Client(settings=settings)
    else:
        live: LiveServer = request.getfixturevalue("api_server")
        key: str = request.getfixturevalue("admin_key")
        sdk = Client(transport=HttpTransport(live.url, key))
    yield sdk
    sdk.close()


@contextlib.contextmanager
def _module_settings(request: pytest.FixtureRequest, backend: str) -> Iterator[Settings]:
    """Like ``settings``, on a home and database of their own that a whole module shares."""
    home = request.getfixturevalue("tmp_path_factory").mktemp("module") / "home"
    home.mkdir(parents=True)
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), home / "shipyard.db")
        url = f"sqlite:///{home / 'shipyard.db'}"
        yield Settings(home=home, database_url=url, key_cache_seconds=0.2)
        return
    engine: sa.Engine = request.getfixturevalue("postgres_engine")
    template, dropper = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield Settings(home=home, database_url=_database_url(name), key_cache_seconds=0.2)
    finally:
        dropper.queue.put(name)


@pytest.fixture(
    scope="module", params=["local-sqlite", "local-postgres", "http-sqlite", "http-postgres"]
)
def module_client(request: pytest.FixtureRequest) -> Iterator[Client]:
    """Like ``client`` (both transports, both backends), but one for a whole module, each on
    a fresh home and database: for a module whose tests only read what its fixtures wrote."""
    transport, backend = request.param.split("-")
    with _module_settings(request, backend) as settings:
        if transport == "local":
            with Client(settings=settings) as sdk:
                yield sdk
            return
        opened = Platform.open(settings)
        bootstrap(opened)
        key = issue_admin_key_if_none(opened)
        assert key is not None
        live = LiveServer(create_app(opened))
        try:
            with Client(transport=HttpTransport(live.url, key.token)) as sdk:
                yield sdk
        finally:
            live.close()
            opened.close()
