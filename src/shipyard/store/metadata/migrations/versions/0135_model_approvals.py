"""model approvals: each approval decision on a model version (status, reason, principal,
time), so a version shows why it was approved or rejected and by whom

Revision ID: 0135_model_approvals
Revises: 0134_console
Create Date: 2026-12-07 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0135_model_approvals"
down_revision: str | None = "0134_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_approvals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "model_version_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("principal", sa.String(100), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_model_approvals_model_version_id", "model_approvals", ["model_version_id"])


def downgrade() -> None:
    op.drop_table("model_approvals")
