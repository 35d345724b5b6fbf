"""transforms: partitioned dataset versions, transforms, transform versions and runs

Revision ID: 0105_transforms
Revises: 0001
Create Date: 2026-11-26 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0105_transforms"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_partitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("partition_values", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"], ["dataset_versions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_version_id", "ordinal"),
    )
    op.create_index(
        "ix_dataset_partitions_dataset_version_id", "dataset_partitions", ["dataset_version_id"]
    )
    op.create_table(
        "transforms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "transform_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transform_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("spec_digest", sa.String(length=80), nullable=False),
        sa.Column("code_digest", sa.String(length=80), nullable=False),
        sa.Column("source_digest", sa.String(length=80), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transform_id"], ["transforms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transform_id", "version"),
    )
    op.create_table(
        "transform_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("transform_version_id", sa.Integer(), nullable=False),
        sa.Column("cache_key", sa.String(length=80), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("output_dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transform_version_id"], ["transform_versions.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["output_dataset_version_id"], ["dataset_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_transform_runs_cache_key", "transform_runs", ["cache_key"])
    op.create_index(
        "ix_transform_runs_transform_version_id", "transform_runs", ["transform_version_id"]
    )
    op.create_index(
        "ix_transform_runs_output_dataset_version_id",
        "transform_runs",
        ["output_dataset_version_id"],
    )
    op.create_table(
        "transform_run_inputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("alias", sa.String(length=100), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["transform_runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_version_id"], ["dataset_versions.id"]),
        sa.PrimaryKeyConstraint("run_id", "alias"),
    )
    op.create_index(
        "ix_transform_run_inputs_dataset_version_id",
        "transform_run_inputs",
        ["dataset_version_id"],
    )


def downgrade() -> None:
    op.drop_table("transform_run_inputs")
    op.drop_table("transform_runs")
    op.drop_table("transform_versions")
    op.drop_table("transforms")
    op.drop_table("dataset_partitions")
