"""principal limits: a request rate, a burst and a daily quota per principal, and the
requests each principal made per UTC day

Revision ID: 0144_principal_limits
Revises: 0143_model_four_eyes
Create Date: 2026-12-07 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0144_principal_limits"
down_revision: str | None = "0143_model_four_eyes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "principal_limits",
        sa.Column(
            "principal_id",
            sa.Integer(),
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("requests_per_second", sa.Float(), nullable=True),
        sa.Column("burst", sa.Integer(), nullable=True),
        sa.Column("daily_quota", sa.BigInteger(), nullable=True),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "principal_usage",
        sa.Column("principal", sa.String(100), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("requests", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("principal_usage")
    op.drop_table("principal_limits")
