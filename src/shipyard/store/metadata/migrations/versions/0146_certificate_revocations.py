"""certificate revocations: client certificates (mutual TLS) revoked by serial number

Revision ID: 0146_certificate_revocations
Revises: 0139_iam_lifecycle
Create Date: 2026-12-07 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0146_certificate_revocations"
down_revision: str | None = "0139_iam_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revoked_certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("principal", sa.String(100), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("revoked_by", sa.String(100), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revoked_certificates")
