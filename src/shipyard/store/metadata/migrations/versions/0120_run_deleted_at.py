"""runs.deleted_at: a run deleted softly (MLflow's lifecycle stage "deleted"), hidden from
lists by default and restorable

Revision ID: 0120_run_deleted_at
Revises: 0112_security_generation
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0120_run_deleted_at"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place, not by copying the table (SQLite >= 3.35 drops columns): a copy drops and
    # recreates ``runs``, which the foreign keys of other branches' tables may refuse.
    op.drop_column("runs", "deleted_at")
