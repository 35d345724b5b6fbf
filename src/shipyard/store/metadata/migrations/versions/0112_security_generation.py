"""security generation: one counter bumped by every change to keys, principals or policies,
which serving workers poll to drop a revoked key or detached policy within a second

Revision ID: 0112_security_generation
Revises: 0111_model_version_client_token
Create Date: 2026-12-06 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0112_security_generation"
down_revision: str | None = "0111_model_version_client_token"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "security_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": 1, "generation": 0}])


def downgrade() -> None:
    op.drop_table("security_state")
