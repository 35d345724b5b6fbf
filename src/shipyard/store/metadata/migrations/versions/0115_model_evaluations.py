"""model evaluations, gates and gate checks: metrics with intervals and an HTML report per
evaluation, validation thresholds per model, and every gate decision with its reason

Revision ID: 0115_model_evaluations
Revises: 0112_security_generation
Create Date: 2026-12-06 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0115_model_evaluations"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_evaluations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("report_digest", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_version_id"], ["dataset_versions.id"]),
        sa.ForeignKeyConstraint(
            ["baseline_version_id"], ["model_versions.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_model_evaluations_model_version_id", "model_evaluations", ["model_version_id"]
    )
    op.create_table(
        "model_gates",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.String(length=200), nullable=False),
        sa.Column("baseline", sa.String(length=100), nullable=True),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["models.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id"),
    )
    op.create_table(
        "model_gate_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evaluation_id", sa.String(length=32), nullable=True),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["evaluation_id"], ["model_evaluations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_model_gate_checks_model_version_id", "model_gate_checks", ["model_version_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_model_gate_checks_model_version_id", table_name="model_gate_checks")
    op.drop_table("model_gate_checks")
    op.drop_table("model_gates")
    op.drop_index("ix_model_evaluations_model_version_id", table_name="model_evaluations")
    op.drop_table("model_evaluations")
