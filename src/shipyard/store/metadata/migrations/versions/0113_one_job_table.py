"""one job table: status, progress, pid, attempts, limits and the resource record of every
job kind in ``jobs``; training and batch jobs keep only what their kind knows

Revision ID: 0113_one_job_table
Revises: 0112_security_generation
Create Date: 2026-12-06 13:00:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0113_one_job_table"
down_revision: str | None = "0112_security_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0103_model_exports",)  # batch_jobs

_TZ = sa.DateTime(timezone=True)
_TRAINING_MOVED = ("name", "status", "progress", "message", "run_id", "created_by")
_TRAINING_TIMES = ("created_at", "ended_at")
_BATCH_MOVED = ("status", "progress", "message", "attempts", "pid", "created_by")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_retries", sa.Integer(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("started_at", _TZ, nullable=True),
        sa.Column("ended_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_jobs_kind", "jobs", ["kind"])
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_table(
        "job_code_files",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=80), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "path"),
    )
    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    for row in bind.execute(sa.text("SELECT * FROM training_jobs")).mappings():
        spec = row["spec"] if isinstance(row["spec"], dict) else json.loads(row["spec"] or "{}")
        rows.append(_common(row, "training", row["name"], str(spec.get("experiment", "default"))))
        rows[-1]["run_id"] = row["run_id"]
    for row in bind.execute(sa.text("SELECT * FROM batch_jobs")).mappings():
        common = _common(row, "batch", f"batch-{row['id'][:6]}", row["output_name"])
        rows.append(common | {"pid": row["pid"], "attempts": row["attempts"]})
    if rows:  # times as read (SQLite hands back text), JSON typed
        json_columns = ("limits", "resources")
        columns = [sa.column(k, sa.JSON()) if k in json_columns else sa.column(k) for k in rows[0]]
        bind.execute(sa.insert(sa.table("jobs", *columns)), rows)
    chunks = [dict(r) for r in bind.execute(sa.text("SELECT * FROM batch_chunks")).mappings()]
    with op.batch_alter_table("training_jobs") as batch:
        for column in (*_TRAINING_MOVED, *_TRAINING_TIMES):
            batch.drop_column(column)
        batch.create_foreign_key("fk_training_jobs_job", "jobs", ["id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("batch_jobs") as batch:
        for column in (*_BATCH_MOVED, *_TRAINING_TIMES):
            batch.drop_column(column)
        batch.create_foreign_key("fk_batch_jobs_job", "jobs", ["id"], ["id"], ondelete="CASCADE")
    # SQLite rebuilds batch_jobs by dropping it, which cascades to its chunks: put them back.
    kept = bind.execute(sa.text("SELECT count(*) FROM batch_chunks")).scalar()
    if chunks and not kept:
        table = sa.table("batch_chunks", *(sa.column(name) for name in chunks[0]))
        bind.execute(sa.insert(table), chunks)


def _common(row: Any, kind: str, name: str, scope: str) -> dict[str, Any]:
    status = row["status"] if row["status"] in ("succeeded", "failed") else "failed"
    return {
        "id": row["id"],
        "kind": kind,
        "name": name,
        "scope": scope,
        "status": status,
        "progress": row["progress"],
        "message": row["message"] if status == row["status"] else "interrupted by an upgrade",
        "pid": None,
        "attempts": 1,
        "max_retries": 0,
        "limits": {},
        "resources": {},
        "run_id": None,
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "started_at": None,
        "ended_at": row["ended_at"],
    }


def downgrade() -> None:
    """Put each job's state back on its kind's table; statuses the old tables did not know
    (cancelled, timed_out) become failed, and limits, retries and resource records go."""
    bind = op.get_bind()
    chunks = [dict(r) for r in bind.execute(sa.text("SELECT * FROM batch_chunks")).mappings()]
    with op.batch_alter_table("training_jobs") as batch:
        batch.drop_constraint("fk_training_jobs_job", type_="foreignkey")
        for column in _old_columns(_TRAINING_MOVED):
            batch.add_column(column)
    with op.batch_alter_table("batch_jobs") as batch:
        batch.drop_constraint("fk_batch_jobs_job", type_="foreignkey")
        for column in _old_columns(_BATCH_MOVED):
            batch.add_column(column)
    for kind_table, moved in (("training_jobs", _TRAINING_MOVED), ("batch_jobs", _BATCH_MOVED)):
        names = (*moved, *_TRAINING_TIMES)
        assignments = ", ".join(
            f"{n} = (SELECT j.{n} FROM jobs j WHERE j.id = {kind_table}.id)" for n in names
        )
        bind.execute(sa.text(f"UPDATE {kind_table} SET {assignments}"))
        bind.execute(
            sa.text(
                f"UPDATE {kind_table} SET status = 'failed' "
                "WHERE status NOT IN ('pending', 'running', 'succeeded', 'failed')"
            )
        )
    kept = bind.execute(sa.text("SELECT count(*) FROM batch_chunks")).scalar()
    if chunks and not kept:  # SQLite's rebuild of batch_jobs cascaded to its chunks
        table = sa.table("batch_chunks", *(sa.column(name) for name in chunks[0]))
        bind.execute(sa.insert(table), chunks)
    op.drop_table("job_code_files")
    op.drop_index("ix_jobs_created_at", table_name="jobs")
    op.drop_index("ix_jobs_kind", table_name="jobs")
    op.drop_table("jobs")


def _old_columns(moved: tuple[str, ...]) -> list[sa.Column[Any]]:
    """The columns 0113 took off a kind table, as they were (filled by the downgrade)."""
    types: dict[str, Any] = {
        "name": sa.String(length=200),
        "status": sa.String(length=20),
        "progress": sa.Float(),
        "message": sa.Text(),
        "run_id": sa.String(length=32),
        "created_by": sa.String(length=100),
        "attempts": sa.Integer(),
        "pid": sa.Integer(),
        "created_at": _TZ,
        "ended_at": _TZ,
    }
    return [sa.Column(n, types[n], nullable=True) for n in (*moved, *_TRAINING_TIMES)]
