"""model four-eyes rule: a model may require that whoever approves a version is not who
registered it or trained its run

Revision ID: 0143_model_four_eyes
Revises: 0135_model_approvals
Create Date: 2026-12-07 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0143_model_four_eyes"
down_revision: str | None = "0135_model_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.add_column(
            sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("four_eyes")
