"""model version code: the digest of a code model's registered code and who registered it

Revision ID: 0114_model_version_code
Revises: 0112_security_generation
Create Date: 2026-12-06 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0114_model_version_code"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_digest", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("code_registered_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("code_registered_by")
        batch_op.drop_column("code_digest")
