"""run search sorted by a param or tag: an index on (key, value) of run_params and run_tags,
so a search ordered by one reads runs in that order and stops at its page (SQLite only:
PostgreSQL refuses a B-tree entry over 2,704 bytes, which a long param or tag would be,
and its top-N sort over one key's rows is fast without it)

Revision ID: 0145_run_value_indexes
Revises: 0141_erasure_requests
Create Date: 2026-12-07 09:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0145_run_value_indexes"
down_revision: str | None = "0141_erasure_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {"ix_run_params_key_value": "run_params", "ix_run_tags_key_value": "run_tags"}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in _INDEXES.items():
        op.create_index(name, table, ["key", "value"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table in _INDEXES.items():
        op.drop_index(name, table)
