"""model four-eyes rule: a model may require that whoever approves a version is not who
registered it or trained its run

Revision ID: 0143_model_four_eyes
Revises: 0136_audit_chain
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0143_model_four_eyes"
down_revision: str | None = "0136_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN (with its default) on SQLite too: a batch copy of ``models`` would
    # drop the table its versions reference
    op.add_column(
        "models",
        sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("models", "four_eyes")
