"""audit chain: each audit event gets its place in a hash chain (seq, prev_hash, hash) when
the sealer reaches it, and signed checkpoints of the chain's head; the append-only triggers
now let an unsealed event be sealed once, with nothing else changed

Events already stored are unsealed after this migration; the first sealing (the server's
sealer, or any verify or export) chains them in id order.

Revision ID: 0136_audit_chain
Revises: 0135_model_approvals
Create Date: 2026-12-07 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0136_audit_chain"
down_revision: str | None = "0135_model_approvals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTENT = ("id", "time", "principal", "action", "resource", "outcome", "request_id", "detail")

_SQLITE_SEAL_ONLY = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL OR "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)
    + " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
)
_SQLITE_OLD = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
)
_SQLITE_CHECKPOINTS = (
    "CREATE TRIGGER audit_checkpoints_no_{op} BEFORE {OP} ON audit_checkpoints "
    "BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END"
)

_SAME = " AND ".join(
    f"NEW.{c}::text IS NOT DISTINCT FROM OLD.{c}::text"
    if c == "detail"
    else f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}"
    for c in _CONTENT
)
_POSTGRES_SEAL_ONLY = f"""
CREATE OR REPLACE FUNCTION shipyard_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL AND {_SAME} THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit log is append-only';
END; $$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION shipyard_audit_checkpoints_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit checkpoints are append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
FOR EACH ROW EXECUTE FUNCTION shipyard_audit_checkpoints_append_only();
"""
_POSTGRES_OLD = """
CREATE OR REPLACE FUNCTION shipyard_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(64), nullable=True))
    op.create_index("ix_audit_events_seq", "audit_events", ["seq"], unique=True)
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute(_SQLITE_SEAL_ONLY)
        for verb in ("update", "delete"):
            op.execute(_SQLITE_CHECKPOINTS.format(op=verb, OP=verb.upper()))
    elif dialect == "postgresql":
        op.execute(_POSTGRES_SEAL_ONLY)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS shipyard_audit_checkpoints_append_only() CASCADE")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_events_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:  # on SQLite a copy: triggers go
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb}")
            op.execute(_SQLITE_OLD.replace("update", verb).replace("UPDATE", verb.upper()))
    elif dialect == "postgresql":
        op.execute(_POSTGRES_OLD)
