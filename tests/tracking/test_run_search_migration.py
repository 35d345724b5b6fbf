"""Migration 0116 on a database that already holds runs: latest metrics filled from the
stored history, runs without a parent, and the history index in place."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from shipyard.store.metadata import Database

MIGRATIONS = Path(__file__).parents[2] / "src" / "shipyard" / "store" / "metadata" / "migrations"


def _upgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_upgrade_fills_latest_metrics_from_history(empty_metadata_url: str, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir(exist_ok=True)
    db = Database(empty_metadata_url)
    try:
        _upgrade(db, "0112_security_generation")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO experiments (id, name, created_at) VALUES (1, 'e', :now)"),
                {"now": "2026-01-01 00:00:00"},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO runs (id, experiment_id, name, status, created_by, start_time)"
                    " VALUES ('r1', 1, 'r', 'finished', 'admin', :now)"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO run_metrics (run_id, key, value, step, timestamp)"
                    " VALUES ('r1', :key, :value, :step, :ts)"
                ),
                [
                    {"key": "loss", "value": 0.5, "step": 2, "ts": 10.0},
                    {"key": "loss", "value": 0.9, "step": 1, "ts": 20.0},
                    {"key": "loss", "value": 0.4, "step": 2, "ts": 10.0},
                    {"key": "auc", "value": 0.7, "step": 0, "ts": 5.0},
                ],
            )
        db.upgrade()
        with db.engine.connect() as connection:
            latest = connection.execute(
                sa.text("SELECT key, value, step FROM run_latest_metrics ORDER BY key")
            ).all()
            parent = connection.execute(sa.text("SELECT parent_run_id FROM runs")).scalar()
        assert [tuple(row) for row in latest] == [("auc", 0.7, 0), ("loss", 0.4, 2)]
        assert parent is None
        indexes = {i["name"] for i in sa.inspect(db.engine).get_indexes("run_metrics")}
        assert "ix_run_metrics_history" in indexes
        assert "ix_run_metrics_run_key_step" not in indexes
    finally:
        db.dispose()
