"""The metadata store contract, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.errors import Conflict, StorageError
from shipyard.platform import Platform
from shipyard.security import context_for, create_principal, list_audit_events
from shipyard.store.metadata import Database, tables


def test_migrations_are_idempotent(platform: Platform) -> None:
    platform.db.upgrade()
    with platform.db.engine.connect() as connection:
        names = set(sa.inspect(connection).get_table_names())
    assert {"datasets", "runs", "model_versions", "audit_events", "alembic_version"} <= names


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    db.upgrade()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_audit_log_is_append_only_in_the_database(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "alice")
    events = list_audit_events(admin)
    assert events[0].action == "iam:CreatePrincipal"
    assert events[0].outcome == "succeeded"
    assert events[0].principal == "admin"
    with pytest.raises((Conflict, StorageError)), platform.db.session() as session:
        session.execute(sa.update(tables.AuditEvent).values(outcome="forged"))
    with pytest.raises((Conflict, StorageError)), platform.db.session() as session:
        session.execute(sa.delete(tables.AuditEvent))
    assert list_audit_events(admin)[0].outcome == "succeeded"


def test_unique_violations_become_conflicts(platform: Platform) -> None:
    with pytest.raises(Conflict), platform.db.session() as session:
        session.add(tables.Principal(name="admin"))


def test_unusable_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        Database("nosuchdialect://x")
