"""tombstones: a deleted dataset version or model version keeps its row (who deleted it,
when, why) so lineage still names it; a dataset version rewritten by an erasure names it

Revision ID: 0140_tombstones
Revises: 0139_iam_lifecycle
Create Date: 2026-12-07 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0140_tombstones"
down_revision: str | None = "0146_certificate_revocations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("dataset_versions", "model_versions")


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of either table on SQLite would drop a table that runs,
    # partitions, endpoints and validations reference.
    for table in _TABLES:
        op.add_column(table, sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("deleted_by", sa.String(100), nullable=True))
        op.add_column(table, sa.Column("deleted_reason", sa.String(500), nullable=True))
    op.add_column("dataset_versions", sa.Column("erasure_id", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("dataset_versions", "erasure_id")
    for table in _TABLES:
        for column in ("deleted_reason", "deleted_by", "deleted_at"):
            op.drop_column(table, column)
