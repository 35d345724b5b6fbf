"""run search and nesting: parent runs, each run's latest metric values kept on write (filled
from the history already stored), an index for an experiment's runs by start time, and a
covering index for reading metric histories

Revision ID: 0116_run_search
Revises: 0112_security_generation
Create Date: 2026-12-06 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0116_run_search"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
INSERT INTO run_latest_metrics (run_id, key, value, step, timestamp)
SELECT run_id, key, value, step, timestamp FROM (
    SELECT run_id, key, value, step, timestamp,
           row_number() OVER (
               PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, id DESC
           ) AS rank
    FROM run_metrics
) AS ranked
WHERE rank = 1
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference in ADD COLUMN (not as a separate constraint), and a batch
        # copy of ``runs`` would cascade-delete every child row when the old table is dropped.
        op.execute(
            "ALTER TABLE runs ADD COLUMN parent_run_id VARCHAR(32)"
            " REFERENCES runs (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "runs",
            sa.Column(
                "parent_run_id",
                sa.String(length=32),
                sa.ForeignKey("runs.id", name="fk_runs_parent_run_id", ondelete="SET NULL"),
                nullable=True,
            ),
        )
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])
    op.create_index("ix_runs_experiment_start", "runs", ["experiment_id", "start_time"])
    op.create_table(
        "run_latest_metrics",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "key"),
    )
    op.execute(_BACKFILL)
    op.create_index(
        "ix_run_metrics_history", "run_metrics", ["run_id", "key", "step", "timestamp", "value"]
    )
    op.drop_index("ix_run_metrics_run_key_step", table_name="run_metrics")


def downgrade() -> None:
    op.create_index("ix_run_metrics_run_key_step", "run_metrics", ["run_id", "key", "step"])
    op.drop_index("ix_run_metrics_history", table_name="run_metrics")
    op.drop_table("run_latest_metrics")
    op.drop_index("ix_runs_experiment_start", table_name="runs")
    op.drop_index("ix_runs_parent_run_id", table_name="runs")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_runs_parent_run_id", "runs", type_="foreignkey")
    op.drop_column("runs", "parent_run_id")
