"""run_model_inputs: the registered model versions a run continued from (warm start),
so a version trained from another shows its parent in lineage

Revision ID: 0119_run_model_inputs
Revises: 0112_security_generation
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0119_run_model_inputs"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_model_inputs",
        sa.Column(
            "run_id",
            sa.String(length=32),
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "model_version_id",
            sa.Integer(),
            sa.ForeignKey("model_versions.id"),
            primary_key=True,
        ),
    )
    op.create_index(
        "ix_run_model_inputs_model_version_id", "run_model_inputs", ["model_version_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_run_model_inputs_model_version_id", table_name="run_model_inputs")
    op.drop_table("run_model_inputs")
