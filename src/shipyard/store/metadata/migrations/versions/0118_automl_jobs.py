"""automl jobs: what each searches (dataset version, target, budget, metric) and its
leaderboard, keyed by the job's id in ``jobs``

Revision ID: 0118_automl_jobs
Revises: 0112_security_generation
Create Date: 2026-12-06 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0118_automl_jobs"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0113_one_job_table",)


def upgrade() -> None:
    op.create_table(
        "automl_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("leaderboard", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["jobs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_version_id"], ["dataset_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("automl_jobs")
