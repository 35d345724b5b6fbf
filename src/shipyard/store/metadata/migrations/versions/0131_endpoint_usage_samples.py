"""endpoint_usage_samples: serving workers' CPU seconds and memory, sampled periodically,
so an endpoint's cost over a period can be computed

Revision ID: 0131_endpoint_usage_samples
Revises: 0112_security_generation
Create Date: 2026-12-06 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0131_endpoint_usage_samples"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "endpoint_usage_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("memory_mb", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_endpoint_usage_samples_endpoint_time", "endpoint_usage_samples", ["endpoint", "time"]
    )
    op.create_index("ix_endpoint_usage_samples_time", "endpoint_usage_samples", ["time"])


def downgrade() -> None:
    op.drop_table("endpoint_usage_samples")
