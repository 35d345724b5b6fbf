"""model version client token: a retried registration returns the version the first made

Revision ID: 0111_model_version_client_token
Revises: 0110_feature_source_indexes
Create Date: 2026-12-06 10:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0111_model_version_client_token"
down_revision: str | None = "0110_feature_source_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_token", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ux_model_versions_client_token", ["model_id", "client_token"], unique=True
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("ux_model_versions_client_token")
        batch_op.drop_column("client_token")
