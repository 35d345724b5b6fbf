"""endpoint variants, live state, per-variant stats, captures, feedback, deployments

Revision ID: 0102_endpoint_variants
Revises: 0001
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102_endpoint_variants"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    variants = op.create_table(
        "endpoint_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("shadow_percent", sa.Float(), nullable=False),
        sa.Column("runtime", sa.String(length=20), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["model_version_id"], ["model_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_id", "name"),
    )
    states = op.create_table(
        "endpoint_states",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("capture", sa.JSON(), nullable=False),
        sa.Column("batching", sa.JSON(), nullable=False),
        sa.Column("bandit", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("endpoint_id"),
    )
    op.create_table(
        "variant_stats",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("variant", sa.String(length=50), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.Float(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("latency_buckets", sa.JSON(), nullable=False),
        sa.Column("shadow_agreements", sa.Integer(), nullable=False),
        sa.Column("shadow_comparisons", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "variant", "worker", "window_start"),
    )
    op.create_table(
        "endpoint_instances",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("failed_generation", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "worker"),
    )
    op.create_table(
        "capture_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_capture_files_endpoint_hour", "capture_files", ["endpoint", "hour"])
    op.create_table(
        "feedback",
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.JSON(), nullable=True),
        sa.Column("received_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "request_id"),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("from_variants", sa.JSON(), nullable=False),
        sa.Column("to_variant", sa.String(length=50), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_started_at", sa.Float(), nullable=False),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("ended_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deployments_endpoint", "deployments", ["endpoint"])
    _backfill(variants, states)


def _backfill(variants: sa.Table, states: sa.Table) -> None:
    """Endpoints made before variants existed get their "primary" variant and a state row."""
    endpoints = sa.table(
        "endpoints",
        sa.column("id", sa.Integer()),
        sa.column("model_version_id", sa.Integer()),
        sa.column("created_at", _TZ),
        sa.column("updated_at", _TZ),
    )
    rows = op.get_bind().execute(sa.select(endpoints)).all()
    if not rows:
        return
    op.bulk_insert(
        variants,
        [
            {
                "endpoint_id": r.id,
                "name": "primary",
                "model_version_id": r.model_version_id,
                "weight": 1.0,
                "role": "production",
                "shadow_percent": 0.0,
                "runtime": "native",
                "created_at": r.created_at,
            }
            for r in rows
        ],
    )
    op.bulk_insert(
        states,
        [
            {
                "endpoint_id": r.id,
                "generation": 1,
                "production": False,
                "capture": {},
                "batching": {},
                "bandit": {},
                "updated_at": r.updated_at,
            }
            for r in rows
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_deployments_endpoint", table_name="deployments")
    op.drop_table("deployments")
    op.drop_table("feedback")
    op.drop_index("ix_capture_files_endpoint_hour", table_name="capture_files")
    op.drop_table("capture_files")
    op.drop_table("endpoint_instances")
    op.drop_table("variant_stats")
    op.drop_table("endpoint_states")
    op.drop_table("endpoint_variants")
