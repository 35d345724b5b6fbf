"""Migration 0118 (the automl_jobs table) goes down and up again on a real database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from shipyard.platform import Platform
from shipyard.store.metadata import tables as t


def test_migration_0118_downgrades_and_upgrades(platform: Platform) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(t.__file__).parent / "migrations"))
    with platform.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0118_automl_jobs@-1")
    with platform.db.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
    assert "automl_jobs" not in tables and "jobs" in tables
    platform.db.upgrade()
    with platform.db.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("automl_jobs")}
    assert columns == {"id", "spec", "dataset_version_id", "leaderboard"}
