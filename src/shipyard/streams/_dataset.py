"""Where committed partitions land: each commit is a new version of the target dataset.

The new version is the previous version plus the commit's Parquet file, registered in the
commit's transaction as an append version (``shipyard.datasets._appends``): it adds one row
to its chain's partition list, so a commit costs the same at the thousandth commit as at the
first, and a reader of any version still sees an immutable snapshot. When the previous
version has other columns (another writer, or a changed stream schema), the new version
starts from the commit alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.data import read_parquet_bytes, table_schema
from shipyard.datasets import append_version
from shipyard.errors import NotFound
from shipyard.platform import Platform
from shipyard.store.blobs import BlobStore
from shipyard.store.metadata import DATASETS, claim_parent, latest_version
from shipyard.store.metadata import stream_tables as st
from shipyard.streams._profile import merge_profiles

if TYPE_CHECKING:
    from shipyard.streams._commit import LoadedStream


def _columns(schema: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["name"], c["arrow_type"]) for c in schema]


def register_partition(
    session: Session,
    blobs: BlobStore,
    stream: LoadedStream,
    partition: st.StreamPartition,
    table: pa.Table,
    principal: str,
) -> int:
    """Register the dataset version that adds ``partition``; returns its version number."""
    name = stream.spec.dataset
    dataset = claim_parent(session, DATASETS, name)
    previous = latest_version(session, DATASETS, dataset)
    schema = [c.model_dump() for c in table_schema(table)]
    profile = None
    parent = None
    if previous is not None and _columns(previous.schema) == _columns(schema):
        parent, profile = previous, previous.profile
        for column, before in zip(schema, previous.schema, strict=True):
            column["nullable"] = column["nullable"] or before["nullable"]
    assert partition.digest is not None
    row = append_version(
        session,
        blobs,
        dataset,
        parent,
        [(partition.digest, partition.rows, partition.size_bytes)],
        version=(previous.version if previous is not None else 0) + 1,
        schema=schema,
        profile=merge_profiles(profile, table),
        source=f"stream:{stream.name}#{partition.seq}",
        created_by=principal,
    )
    return row.version


def read_committed(platform: Platform, name: str) -> pa.Table:
    """Every record a stream committed, in commit order, from its own partition list."""
    with platform.db.session() as session:
        stream_id = session.scalar(sa.select(st.Stream.id).where(st.Stream.name == name))
        if stream_id is None:
            raise NotFound(f"stream {name!r} does not exist", field="stream")
        digests = session.scalars(
            sa.select(st.StreamPartition.digest)
            .where(
                st.StreamPartition.stream_id == stream_id,
                st.StreamPartition.digest.is_not(None),
            )
            .order_by(st.StreamPartition.seq)
        ).all()
    tables = [read_parquet_bytes(platform.blobs.get_bytes(d)) for d in digests if d is not None]
    return pa.concat_tables(tables) if tables else pa.table({})
