"""console: web console logins (console_sessions: hashes of the cookie and CSRF token,
expiry), and two indexes its run pages lean on at 100,000 runs: runs newest first
(start_time DESC, id) and latest metrics by value (key, value) for metric filters

Revision ID: 0134_console
Revises: 0112_security_generation (after 0116_run_search)
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0134_console"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0116_run_search"  # run_latest_metrics


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_hash", sa.String(64), nullable=False),
        sa.Column(
            "api_key_id",
            sa.Integer(),
            sa.ForeignKey("api_keys.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "principal_id",
            sa.Integer(),
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_console_sessions_api_key_id", "console_sessions", ["api_key_id"])
    op.create_index("ix_console_sessions_principal_id", "console_sessions", ["principal_id"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_index("ix_runs_start_time_id", "runs", [sa.text("start_time DESC"), "id"])
    op.create_index("ix_run_latest_metrics_key_value", "run_latest_metrics", ["key", "value"])


def downgrade() -> None:
    op.drop_index("ix_run_latest_metrics_key_value", "run_latest_metrics")
    op.drop_index("ix_runs_start_time_id", "runs")
    op.drop_table("console_sessions")
