"""Where studies live: Optuna's RDB storage beside the platform's metadata database.

Optuna's storage keeps its own Alembic ``alembic_version`` table, which would collide with
the platform's, so it never shares the platform's tables: on PostgreSQL it is the same
database in its own schema (``optuna``, or ``<schema>_optuna`` when the platform's URL sets
a search_path to another schema), created if missing; on SQLite a sidecar file next to the
metadata file (``shipyard.db`` -> ``shipyard.optuna.db``). Trials from several machines
share one study, and a job that is resumed after a crash finds its finished trials.
"""

from __future__ import annotations

import fcntl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from shipyard.config import Settings
from shipyard.errors import StorageError

if TYPE_CHECKING:
    import optuna

_opened: dict[str, optuna.storages.RDBStorage] = {}
_lock = threading.Lock()


def study_name(job_id: str) -> str:
    return f"tuning-{job_id}"


def _postgres_schema(url: sa.URL) -> str:
    options = url.query.get("options", "")
    text = options if isinstance(options, str) else " ".join(options)
    for part in urllib.parse.unquote(text).split():
        if part.startswith("-csearch_path="):
            first = part.removeprefix("-csearch_path=").split(",")[0].strip('"')
            if first and first != "public":
                return f"{first}_optuna"
    return "optuna"


def storage_target(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The study storage's URL and engine options for these settings."""
    url = sa.make_url(settings.metadata_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            raise StorageError("tuning needs a file or server database, not :memory:")
        path = Path(database)
        sidecar = path.with_name(f"{path.stem}.optuna{path.suffix or '.db'}")
        return f"sqlite:///{sidecar}", {"connect_args": {"timeout": 60}}
    schema = _postgres_schema(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        engine.dispose()
    bare = url.difference_update_query(["options"])
    text = bare.render_as_string(hide_password=False)
    return text, {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}


def open_storage(settings: Settings) -> optuna.storages.RDBStorage:
    """The study storage for these settings, opened once per process."""
    import optuna

    key = settings.metadata_url
    with _lock:
        if key not in _opened:
            url, options = storage_target(settings)
            try:
                with _creation_lock(url, options):
                    storage = optuna.storages.RDBStorage(url, engine_kwargs=options)
            except Exception as error:  # optuna and SQLAlchemy raise their own types
                raise StorageError(f"cannot open the tuning study storage: {error}") from None
            if url.startswith("sqlite"):
                sa.event.listen(storage.engine, "connect", _sqlite_pragmas)
                storage.engine.dispose()  # connections from here on get the pragmas
            _opened[key] = storage
        return _opened[key]


@contextmanager
def _creation_lock(url: str, options: dict[str, Any]) -> Iterator[None]:
    """Held while Optuna opens the storage: it creates its tables on first open without a
    lock, so two processes opening a new storage at once (a job starting its study while
    a client lists its trials) made one fail with "table trials already exists"."""
    if url.startswith("sqlite"):
        with open(f"{url.removeprefix('sqlite:///')}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = sa.create_engine(url, **options)
    try:
        with engine.connect() as connection:
            key = sa.select(sa.func.hashtext(options["connect_args"]["options"]))
            lock = connection.scalar(key)
            connection.execute(sa.select(sa.func.pg_advisory_lock(lock)))
            try:
                yield
            finally:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(lock)))
    finally:
        engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """As the metadata database: write-ahead log, fsync at checkpoints (a report per
    boosting round is one small commit)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
