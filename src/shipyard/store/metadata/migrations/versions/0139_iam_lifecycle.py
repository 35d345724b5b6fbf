"""iam lifecycle: API keys that expire; a principal's permission boundary (a policy that
caps what its other policies allow); policy versions (every document a policy held, one
the default), existing policies becoming their version 1; groups of principals with
their members and policies; roles (principals of kind "role" with a trust policy) and
the principal that assumed a role, on its session key

Revision ID: 0139_iam_lifecycle
Revises: 0138_tags
Create Date: 2026-12-07 02:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0139_iam_lifecycle"
down_revision: str | None = "0138_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of ``principals`` on SQLite would drop the table, and
    # with foreign keys on, that cascades into every key and policy attachment.
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    # SQLite cannot add a constraint in place: there the service refuses deleting a policy
    # that is a boundary (PostgreSQL also refuses it in the database).
    op.add_column("principals", sa.Column("boundary_policy_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        op.create_foreign_key(
            "fk_principals_boundary",
            "principals",
            "policies",
            ["boundary_policy_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    op.add_column("principals", sa.Column("trust_policy", sa.JSON(), nullable=True))
    op.add_column("api_keys", sa.Column("assumed_by", sa.String(100), nullable=True))
    op.add_column("policies", sa.Column("default_version", sa.Integer(), nullable=True))
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "policy_id",
            sa.Integer(),
            sa.ForeignKey("policies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("policy_id", "version"),
    )
    op.execute(
        "INSERT INTO policy_versions (policy_id, version, document, created_at, created_by) "
        "SELECT id, 1, document, created_at, '' FROM policies"
    )
    op.execute("UPDATE policies SET default_version = 1")
    op.create_table(
        "principal_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table, other, column in (
        ("group_members", "principals", "principal_id"),
        ("group_policies", "policies", "policy_id"),
    ):
        op.create_table(
            table,
            sa.Column(
                "group_id",
                sa.Integer(),
                sa.ForeignKey("principal_groups.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                column,
                sa.Integer(),
                sa.ForeignKey(f"{other}.id", ondelete="CASCADE"),
                primary_key=True,
            ),
        )


def downgrade() -> None:
    op.drop_table("group_policies")
    op.drop_table("group_members")
    op.drop_table("principal_groups")
    op.drop_table("policy_versions")
    op.drop_column("policies", "default_version")
    op.drop_column("api_keys", "assumed_by")
    op.drop_column("principals", "trust_policy")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_principals_boundary", "principals", type_="foreignkey")
    op.drop_column("principals", "boundary_policy_id")
    op.drop_column("api_keys", "expires_at")
