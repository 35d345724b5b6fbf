"""append versions and dedupe windows: versions that extend a parent's partition list in place,
indexes to prune committed stream record ids by age or count

Revision ID: 0109_append_versions
Revises: 0001
Create Date: 2026-11-26 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0109_append_versions"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0107_streams"


def upgrade() -> None:
    op.add_column("dataset_versions", sa.Column("partition_base_id", sa.Integer(), nullable=True))
    op.add_column("dataset_versions", sa.Column("partition_count", sa.Integer(), nullable=True))
    op.add_column(
        "stream_partitions",
        sa.Column("records_through", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_index(
        "ix_stream_record_ids_partition", "stream_record_ids", ["stream_id", "partition_id"]
    )
    op.create_index(
        "ix_stream_partitions_created", "stream_partitions", ["stream_id", "created_at"]
    )
    op.create_index(
        "ix_stream_partitions_records_through",
        "stream_partitions",
        ["stream_id", "records_through"],
    )


def downgrade() -> None:
    op.drop_index("ix_stream_partitions_records_through", table_name="stream_partitions")
    op.drop_index("ix_stream_partitions_created", table_name="stream_partitions")
    op.drop_index("ix_stream_record_ids_partition", table_name="stream_record_ids")
    with op.batch_alter_table("stream_partitions") as batch_op:
        batch_op.drop_column("records_through")
    with op.batch_alter_table("dataset_versions") as batch_op:
        batch_op.drop_column("partition_count")
        batch_op.drop_column("partition_base_id")
