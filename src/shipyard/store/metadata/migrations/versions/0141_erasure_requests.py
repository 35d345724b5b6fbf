"""erasure requests: rows erased by key from every version of a dataset, with a salted
hash of the values (never the values), the rows removed per version, who asked and why;
retention rules (captures older than N days, dataset versions beyond the last K)

Revision ID: 0141_erasure_requests
Revises: 0140_tombstones
Create Date: 2026-12-07 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0141_erasure_requests"
down_revision: str | None = "0140_tombstones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("key_column", sa.String(250), nullable=False),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("values_hash", sa.String(64), nullable=False),
        sa.Column("rows_removed", sa.BigInteger(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("purged_blobs", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_erasure_requests_dataset_id", "erasure_requests", ["dataset_id"])
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "target"),
    )


def downgrade() -> None:
    op.drop_table("retention_rules")
    op.drop_index("ix_erasure_requests_dataset_id", table_name="erasure_requests")
    op.drop_table("erasure_requests")
