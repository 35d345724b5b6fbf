"""Staging a dataset version: write its batches to local Parquet files, then record it.

A ``VersionStager`` takes batches one at a time (so several can fill from one pass over a
source), and ``register_staged`` stores the files as blobs and records the version in the
caller's transaction, so a caller can record several versions and what goes with them
(a validation report, say) atomically.

The profile of each batch is computed on a background thread while the caller produces the
next batch and while Parquet encodes (both release the GIL for most of their work). The
batches waiting for it are ones the partition writer buffers anyway until it has a row group
to encode; at most ``ROW_GROUP_ROWS`` rows of them wait, so memory stays bounded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy.orm import Session

from shipyard.data import ColumnSchema, NumericTextScan, normalize_table
from shipyard.data._parquet import ROW_GROUP_ROWS
from shipyard.data._schema import column_type
from shipyard.datasets._batch_profile import BatchProfiler
from shipyard.datasets._partition_writer import (
    PartitionWriter,
    WrittenPartition,
    partition_sort_key,
)
from shipyard.errors import InvalidInput
from shipyard.names import check_name
from shipyard.platform import Platform
from shipyard.schemas.datasets import DatasetVersionInfo
from shipyard.store.blobs import compute_digest
from shipyard.store.metadata import DATASETS, AddedVersion, add_version, find_unchanged
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

MANIFEST_FORMAT = "shipyard.partitions/1"


def version_info(name: str, row: t.DatasetVersion, *, created: bool = False) -> DatasetVersionInfo:
    return DatasetVersionInfo(
        name=name,
        version=row.version,
        digest=row.digest,
        rows=row.rows,
        size_bytes=row.size_bytes,
        columns=row.schema,
        profile=row.profile,
        source=row.source,
        created_by=row.created_by,
        created_at=row.created_at,
        created=created,
        warnings=row.profile.get("warnings", []),
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
        deleted_reason=row.deleted_reason,
        erasure_id=row.erasure_id,
    )


@dataclass
class StagedVersion:
    """The local files of a version not yet registered, with its schema and profile."""

    written: list[WrittenPartition]
    schema: pa.Schema
    profile: dict[str, Any]
    partition_by: list[str]

    @property
    def rows(self) -> int:
        return sum(part.rows for part in self.written)


class VersionStager:
    """Write the batches of one future version to local Parquet files, one batch at a time.

    Several stagers can fill at once from one pass over a source (the gated ingest writes
    clean and quarantined rows side by side); ``register_staged`` then records any number
    of them in one transaction.
    """

    def __init__(self, directory: Path, partition_by: Sequence[str] | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.partition_by = _partition_columns(partition_by)
        self._writer: PartitionWriter | None = None
        self._profiler: BatchProfiler | None = None
        self._schema: pa.Schema | None = None
        self._batches = 0
        self._pool: ThreadPoolExecutor | None = None
        self._profiling: deque[tuple[Future[None], int]] = deque()
        self._profiling_rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        self._batches += 1
        table = normalize_table(
            pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        )
        if self._schema is None:
            self._start(table.schema)
        elif table.schema != self._schema:
            table = conform_batch(table, self._schema, self._batches)
        if table.num_rows:
            assert self._writer is not None and self._profiler is not None
            self._profile(table)
            self._writer.write(table)

    def _profile(self, table: pa.Table) -> None:
        """Queue the batch for the profiler thread, waiting while too many are queued."""
        assert self._profiler is not None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="profile")
        while self._profiling and self._profiling_rows + table.num_rows > ROW_GROUP_ROWS:
            self._wait_oldest()
        self._profiling.append((self._pool.submit(self._profiler.update, table), table.num_rows))
        self._profiling_rows += table.num_rows

    def _wait_oldest(self) -> None:
        future, rows = self._profiling.popleft()
        self._profiling_rows -= rows
        future.result()

    def _profiled(self) -> None:
        """Wait for every queued batch's profile; raise what the profiler raised."""
        try:
            while self._profiling:
                self._wait_oldest()
        finally:
            self._stop_profiling()

    def _stop_profiling(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._profiling.clear()
        self._profiling_rows = 0

    def finish(
        self, declared: pa.Schema | None = None, *, allow_empty: bool = True
    ) -> StagedVersion:
        """Close the files; with no batches at all, ``declared`` gives the empty schema."""
        if self._schema is None:
            if declared is None:
                raise InvalidInput("no rows and no schema to store", field="batches")
            self._start(normalize_table(declared.empty_table()).schema)
        assert self._writer is not None and self._profiler is not None and self._schema
        try:
            written = self._writer.close()
            self._writer = None
        finally:
            self._profiled()
        columns = self.partition_by
        if not any(part.rows for part in written):
            if not allow_empty:
                raise InvalidInput("dataset has no rows", field="file")
            columns = []
        return StagedVersion(written, self._schema, self._profiler.result(), columns)

    def abort(self) -> None:
        self._stop_profiling()
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

    def _start(self, schema: pa.Schema) -> None:
        self._schema = schema
        self._writer = PartitionWriter(self.directory, schema, self.partition_by)
        self._profiler = BatchProfiler(schema)


def _partition_columns(partition_by: Sequence[str] | None) -> list[str]:
    columns = [c.strip() for c in partition_by or [] if c.strip()]
    if len(set(columns)) != len(columns):
        raise InvalidInput("a column is named twice", field="partition_by")
    return columns


def conform_batch(
    table: pa.Table, schema: pa.Schema, number: int, *, field: str = "batches"
) -> pa.Table:
    """``table`` cast to the first batch's ``schema``; InvalidInput naming both if it cannot be."""
    if table.column_names == schema.names:
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    raise InvalidInput(
        f"batch {number} has schema ({_describe(table.schema)}), "
        f"unlike the first batch ({_describe(schema)})",
        field=field,
    )


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in schema)


def with_type_warnings(profile: dict[str, Any], scan: NumericTextScan | None) -> dict[str, Any]:
    """``profile`` with the scan's warnings (numeric columns kept as text), stored with it."""
    found = scan.warnings() if scan is not None else []
    if found:
        profile["warnings"] = [w.model_dump() for w in found]
    return profile


def find_content(session: Session, name: str, digest: str) -> t.DatasetVersion | None:
    """The version of dataset ``name`` holding the content ``digest``, None if none does."""
    return find_unchanged(session, DATASETS, name, digest)


def add_next_version(
    session: Session, name: str, digest: str, **fields: Any
) -> AddedVersion[t.DatasetVersion]:
    """Record the next version of dataset ``name`` (creating the dataset with its first).

    Content another writer stored meanwhile is returned instead, with ``created`` false.
    """
    return add_version(session, DATASETS, name, reuse_digest=digest, **fields)


def register_staged(
    session: Session,
    platform: Platform,
    principal: str,
    name: str,
    staged: StagedVersion,
    source: str,
) -> DatasetVersionInfo:
    """Store a staged version's files and record it in the caller's transaction.

    Content identical to an existing version of ``name`` returns that version instead.
    Blobs are stored before the rows that name them: a rollback leaves only unreferenced
    blobs, never a version without its files.
    """
    check_name(name)
    written, schema, profile, columns = (
        staged.written,
        staged.schema,
        staged.profile,
        staged.partition_by,
    )
    written.sort(key=lambda part: partition_sort_key(part.values, columns))
    files = [(part, part.digest, part.size_bytes) for part in written]
    manifest: bytes | None = None
    if columns:
        manifest = orjson.dumps(
            {
                "format": MANIFEST_FORMAT,
                "partition_by": columns,
                "partitions": [
                    {"values": part.values, "digest": digest, "rows": part.rows}
                    for part, digest, _ in files
                ],
            },
            option=orjson.OPT_SORT_KEYS,
        )
        digest = compute_digest(manifest)
        profile["partitioning"] = {"columns": columns, "partitions": len(files)}
    else:
        digest = files[0][1]
    nulls = {c["name"]: c["nulls"] for c in profile["columns"]}
    described = [
        ColumnSchema(
            name=f.name,
            type=column_type(f.name, f.type),
            arrow_type=str(f.type),
            nullable=nulls[f.name] > 0,
        ).model_dump()
        for f in schema
    ]
    existing = find_content(session, name, digest)
    if existing is not None:
        return version_info(name, existing)
    for part, part_digest, _ in files:
        # Hashed as it was written: moved into a local store rather than read and copied.
        platform.blobs.adopt_file(part.path, part_digest)
    if manifest is not None:
        platform.blobs.put_bytes(manifest)
    row, created = add_next_version(
        session,
        name,
        digest,
        size_bytes=sum(size for _, _, size in files),
        rows=sum(part.rows for part in written),
        schema=described,
        profile=profile,
        source=source[:500],
        created_by=principal,
    )
    if columns and created:
        for ordinal, (part, part_digest, size) in enumerate(files):
            session.add(
                tt.DatasetPartition(
                    dataset_version_id=row.id,
                    ordinal=ordinal,
                    partition_values=part.values,
                    digest=part_digest,
                    rows=part.rows,
                    size_bytes=size,
                )
            )
        session.flush()
    return version_info(name, row, created=created)
