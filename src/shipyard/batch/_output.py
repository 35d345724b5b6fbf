"""Writing the output dataset: canonical Parquet streamed to a local file, then registered.

Row groups are cut exactly where ``shipyard.data.write_parquet_bytes`` cuts
them and written with the same options, so a streamed output has the same
bytes (and digest) as the same table ingested in one piece.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shipyard.batch._profile import StreamingProfile
from shipyard.data._parquet import ROW_GROUP_ROWS
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t


class OutputWriter:
    """Appends tables in order to a Parquet file with canonical row groups, profiling them."""

    def __init__(self, path: Path, total_rows: int) -> None:
        self.path = path
        self._total = total_rows
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.profile: StreamingProfile | None = None

    def write(self, table: pa.Table, chunk: int) -> None:
        table = pa.Table.from_arrays(table.columns, names=table.column_names)
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.path,
                table.schema,
                version="2.6",
                compression="zstd",
                compression_level=3,
                use_dictionary=True,
                write_statistics=True,
                data_page_version="1.0",
            )
            self.profile = StreamingProfile(table.schema, self._total)
        assert self.profile is not None
        self.profile.update(table, chunk)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= ROW_GROUP_ROWS:
            self._flush(ROW_GROUP_ROWS)

    def _flush(self, rows: int) -> None:
        assert self._writer is not None
        buffered = pa.concat_tables(self._pending)
        group = buffered.slice(0, rows).combine_chunks()
        self._writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
        rest = buffered.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def close(self) -> None:
        """Write the last, partial row group and the footer."""
        if self._writer is None:
            return
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()


def register_dataset_file(
    platform: Platform,
    name: str,
    path: Path,
    *,
    rows: int,
    columns: list[dict[str, Any]],
    profile: dict[str, Any],
    principal: str,
    source: str,
) -> t.DatasetVersion:
    """Store a local Parquet file as the next version of dataset ``name``.

    The caller has authorized the write and computed schema and profile; identical
    content already stored as a version of ``name`` is reused, as ingest does.
    """
    digest = platform.blobs.put_file(path)
    with platform.db.session() as session:
        dataset = session.scalar(sa.select(t.Dataset).where(t.Dataset.name == name))
        if dataset is None:
            dataset = t.Dataset(name=name)
            session.add(dataset)
            session.flush()
        existing = session.scalar(
            sa.select(t.DatasetVersion).where(
                t.DatasetVersion.dataset_id == dataset.id, t.DatasetVersion.digest == digest
            )
        )
        if existing is not None:
            return existing
        latest = session.scalar(
            sa.select(sa.func.max(t.DatasetVersion.version)).where(
                t.DatasetVersion.dataset_id == dataset.id
            )
        )
        row = t.DatasetVersion(
            dataset_id=dataset.id,
            version=(latest or 0) + 1,
            digest=digest,
            size_bytes=path.stat().st_size,
            rows=rows,
            schema=columns,
            profile=profile,
            source=source,
            created_by=principal,
        )
        session.add(row)
        session.flush()
        return row
