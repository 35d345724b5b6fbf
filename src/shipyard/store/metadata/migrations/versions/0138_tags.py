"""tags: key-value tags on principals and on resources (by resource name), for policy
conditions on sy:PrincipalTag/<key> and sy:ResourceTag/<key>

Revision ID: 0138_tags
Revises: 0137_api_key_usage
Create Date: 2026-12-07 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0138_tags"
down_revision: str | None = "0137_api_key_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "principal_tags",
        sa.Column(
            "principal_id",
            sa.Integer(),
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.create_table(
        "resource_tags",
        sa.Column("resource", sa.String(300), primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("resource_tags")
    op.drop_table("principal_tags")
