"""api key usage: who issued each key (``created_by``) and when it was last used
(``last_used_at``, written at most once a minute per key)

Revision ID: 0137_api_key_usage
Revises: 0144_principal_limits
Create Date: 2026-12-07 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0137_api_key_usage"
down_revision: str | None = "0144_principal_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("created_by", sa.String(100), nullable=True))
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): a batch copy would drop the table sessions reference
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("api_keys", "created_by")
