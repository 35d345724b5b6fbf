"""run purges: a run purged for good (``runs purge``, a ``deleted_runs`` retention rule)
keeps its row as a lineage tombstone with who purged it, when and why; its params,
metrics, tags and artifact rows go

Revision ID: 0147_run_purges
Revises: 0145_run_value_indexes
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0147_run_purges"
down_revision: str | None = "0145_run_value_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of runs on SQLite would drop a table that model
    # versions, jobs and every run_* table reference.
    op.add_column("runs", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("runs", sa.Column("purged_by", sa.String(100), nullable=True))
    op.add_column("runs", sa.Column("purged_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    for column in ("purged_reason", "purged_by", "purged_at"):
        op.drop_column("runs", column)
