"""Migration 0102 gives endpoints made before variants existed a "primary" variant and a state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shipyard.store.metadata import Database
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata._database import _MIGRATIONS


def test_existing_endpoints_are_backfilled(empty_metadata_url: str, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    db = Database(empty_metadata_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with db.engine.begin() as connection:
        for statement, values in [
            ("INSERT INTO experiments (id, name, created_at) VALUES (1, 'e', :t)", {}),
            (
                "INSERT INTO runs (id, experiment_id, name, status, created_by, start_time) "
                "VALUES ('r', 1, 'r', 'finished', 'admin', :t)",
                {},
            ),
            ("INSERT INTO models (id, name, created_at) VALUES (1, 'm', :t)", {}),
            (
                "INSERT INTO model_versions (id, model_id, version, run_id, flavor, digest, "
                "size_bytes, signature, metrics, approval, created_by, created_at) VALUES "
                "(7, 1, 1, 'r', 'lightgbm', 'd', 1, '{}', '{}', 'Approved', 'admin', :t)",
                {},
            ),
            (
                "INSERT INTO endpoints (id, name, model_ref, model_version_id, created_by, "
                "created_at, updated_at) VALUES (3, 'old', 'm@1', 7, 'admin', :t, :t)",
                {},
            ),
        ]:
            connection.execute(sa.text(statement), {"t": now, **values})
    db.upgrade()
    with db.session() as session:
        [variant] = session.scalars(sa.select(et.EndpointVariant)).all()
        assert (variant.endpoint_id, variant.name, variant.model_version_id) == (3, "primary", 7)
        assert (variant.weight, variant.role, variant.runtime) == (1.0, "production", "native")
        state = session.get(et.EndpointState, 3)
        assert state is not None
        assert (state.generation, state.production, state.capture) == (1, False, {})
    db.dispose()
