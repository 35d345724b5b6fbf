"""The metadata database: engine set-up, migrations, and sessions whose errors speak Shipyard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.orm import Session, sessionmaker

from shipyard.errors import Conflict, InvalidInput, StorageError

_MIGRATIONS = Path(__file__).parent / "migrations"


# What ``alembic_version`` holds once a database is fully migrated, as seen by this process
# after its first upgrade: a database that holds the same needs no look at the ~140
# migration scripts (loading them costs about 0.1 s an open).
_MIGRATED: set[frozenset[str]] = set()


class Database:
    """One metadata database (SQLite file or PostgreSQL) behind SQLAlchemy 2."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            engine_options.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            engine_options.setdefault("pool_pre_ping", True)
        try:
            self.engine = sa.create_engine(url, **engine_options)
        except (exc.ArgumentError, ImportError) as error:
            raise StorageError(f"cannot use database URL: {error}", field="database_url") from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent).

        Alembic is imported here, not at module level: worker processes open the database
        with ``migrate=False`` and should not pay for it at start-up.
        """
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        if self.is_sqlite:
            path = self.engine.url.database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = self.engine.connect()
        except exc.OperationalError as error:  # unreachable, refused, TLS demanded but absent
            problem = str(error.orig).strip().splitlines()[0]
            raise StorageError(
                f"cannot connect to the metadata database: {problem}", field="database_url"
            ) from None
        with connection, connection.begin():
            try:
                migration = MigrationContext.configure(connection)
                if frozenset(migration.get_current_heads()) in _MIGRATED:
                    return
                config = Config()
                config.set_main_option("script_location", str(_MIGRATIONS))
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
                _MIGRATED.add(frozenset(migration.get_current_heads()))
            except exc.SQLAlchemyError as error:
                raise StorageError(f"migrating the metadata database failed: {error}") from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except exc.IntegrityError as error:
            session.rollback()
            raise Conflict(f"conflicts with existing state: {error.orig}") from None
        except exc.DataError as error:  # a value the column cannot hold: too long, too large
            session.rollback()
            problem = str(error.orig).splitlines()[0]
            raise InvalidInput(f"a value does not fit where it is stored: {problem}") from None
        except exc.SQLAlchemyError as error:
            session.rollback()
            raise StorageError(f"metadata database error: {error}") from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
