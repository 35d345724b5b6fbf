"""Dataset versions of any size: written from record batches, read back batch by batch.

A version is one Parquet blob (its digest is the file's), or, when partitioned by columns,
several Parquet blobs listed in ``dataset_partitions``; its digest is then the digest of a
canonical JSON manifest of the partitions, which is stored as a blob too. Identical content
gives the same digest either way, so it is stored once.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.data import ColumnSchema, normalize_table, read_parquet_bytes
from shipyard.data._schema import column_type
from shipyard.datasets._batch_profile import BatchProfiler
from shipyard.datasets._models import DatasetVersionInfo
from shipyard.datasets._partition_writer import (
    PartitionWriter,
    WrittenPartition,
    partition_sort_key,
)
from shipyard.errors import IntegrityError, InvalidInput
from shipyard.names import check_name
from shipyard.platform import Platform
from shipyard.security import RequestContext
from shipyard.store.blobs import compute_digest
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

MANIFEST_FORMAT = "shipyard.partitions/1"
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class VersionFile:
    """One stored Parquet file of a version and the partition values of its rows."""

    digest: str
    rows: int
    size_bytes: int
    values: dict[str, Any]


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
    )


def scratch_directory(platform: Platform) -> Path:
    """Where large intermediate files go: on disk under the Shipyard home, not in /tmp."""
    path = platform.settings.home / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def version_files(session: Session, row: t.DatasetVersion) -> list[VersionFile]:
    """The Parquet files of a version in order: its partitions, or its one file."""
    parts = session.scalars(
        sa.select(tt.DatasetPartition)
        .where(tt.DatasetPartition.dataset_version_id == row.id)
        .order_by(tt.DatasetPartition.ordinal)
    ).all()
    if not parts:
        return [VersionFile(row.digest, row.rows, row.size_bytes, {})]
    return [VersionFile(p.digest, p.rows, p.size_bytes, p.partition_values) for p in parts]


def download_version_files(
    platform: Platform, row: t.DatasetVersion, directory: Path
) -> list[Path]:
    """Download (and verify) every Parquet file of a version into ``directory``."""
    with platform.db.session() as session:
        files = version_files(session, row)
    directory.mkdir(parents=True, exist_ok=True)
    return [
        platform.blobs.download(f.digest, directory / f"part-{index:05d}.parquet")
        for index, f in enumerate(files)
    ]


def iter_version_batches(
    platform: Platform,
    row: t.DatasetVersion,
    columns: Sequence[str] | None = None,
    *,
    batch_size: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """A version's rows in record batches, one downloaded partition file at a time."""
    if columns is not None:
        known = [c["name"] for c in row.schema]
        missing = [c for c in columns if c not in known]
        if missing:
            raise InvalidInput(
                f"no column {missing[0]!r} in the dataset (columns: {', '.join(known)})",
                field="columns",
            )
    with platform.db.session() as session:
        files = version_files(session, row)
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform), prefix="read-") as tmp:
        for index, stored in enumerate(files):
            path = platform.blobs.download(stored.digest, Path(tmp) / f"part-{index:05d}.parquet")
            try:
                parquet = pq.ParquetFile(path)
                yield from parquet.iter_batches(
                    batch_size=batch_size, columns=list(columns) if columns else None
                )
                parquet.close()
            except (pa.ArrowException, OSError) as error:
                raise IntegrityError(f"stored dataset is not readable Parquet: {error}") from None
            finally:
                path.unlink(missing_ok=True)


def read_version_table(platform: Platform, row: t.DatasetVersion) -> pa.Table:
    """The whole table of a version in memory, whatever its layout."""
    with platform.db.session() as session:
        files = version_files(session, row)
    if len(files) == 1 and files[0].digest == row.digest:
        return read_parquet_bytes(platform.blobs.get_bytes(row.digest))
    return pa.concat_tables(read_parquet_bytes(platform.blobs.get_bytes(f.digest)) for f in files)


def write_version_from_batches(
    target: RequestContext | Platform,
    name: str,
    batches: Iterable[pa.RecordBatch | pa.Table],
    *,
    partition_by: Sequence[str] | None = None,
    source: str = "",
    created_by: str | None = None,
    allow_empty: bool = True,
) -> DatasetVersionInfo:
    """Store record batches as a new version of ``name`` in bounded memory.

    Batches are normalised and must share one schema; a ``pa.RecordBatchReader`` with no
    rows still gives an (empty) version unless ``allow_empty`` is false. The caller
    authorizes: this is not an operation. Content identical to an existing version returns
    that version with ``created=False``.
    """
    check_name(name)
    if isinstance(target, RequestContext):
        platform, principal = target.platform, created_by or target.principal
    else:
        platform, principal = target, created_by or "system"
    columns = _partition_columns(partition_by)
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform), prefix="write-") as tmp:
        written, schema, profile = _write_files(Path(tmp), batches, columns)
        if not any(part.rows for part in written):
            if not allow_empty:
                raise InvalidInput("dataset has no rows", field="file")
            columns = []
        return _register(platform, principal, name, written, schema, profile, columns, source)


def _partition_columns(partition_by: Sequence[str] | None) -> list[str]:
    columns = [c.strip() for c in partition_by or [] if c.strip()]
    if len(set(columns)) != len(columns):
        raise InvalidInput("a column is named twice", field="partition_by")
    return columns


def _write_files(
    directory: Path, batches: Iterable[pa.RecordBatch | pa.Table], columns: list[str]
) -> tuple[list[WrittenPartition], pa.Schema, dict[str, Any]]:
    writer: PartitionWriter | None = None
    profiler: BatchProfiler | None = None
    schema: pa.Schema | None = None
    try:
        for number, batch in enumerate(batches, start=1):
            table = normalize_table(
                pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            )
            if schema is None:
                schema = table.schema
                writer = PartitionWriter(directory, schema, columns)
                profiler = BatchProfiler(schema)
            elif table.schema != schema:
                table = _conform(table, schema, number)
            if table.num_rows:
                assert writer is not None and profiler is not None
                profiler.update(table)
                writer.write(table)
        if schema is None:
            declared = getattr(batches, "schema", None)
            if not isinstance(declared, pa.Schema):
                raise InvalidInput("no rows and no schema to store", field="batches")
            schema = normalize_table(declared.empty_table()).schema
            writer = PartitionWriter(directory, schema, columns)
            profiler = BatchProfiler(schema)
        assert writer is not None and profiler is not None
        return writer.close(), schema, profiler.result()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise


def _conform(table: pa.Table, schema: pa.Schema, number: int) -> pa.Table:
    if table.column_names == schema.names:
        try:
            return table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    raise InvalidInput(
        f"batch {number} has schema ({_describe(table.schema)}), "
        f"unlike the first batch ({_describe(schema)})",
        field="batches",
    )


def _describe(schema: pa.Schema) -> str:
    return ", ".join(f"{f.name}: {f.type}" for f in schema)


def _file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def _register(
    platform: Platform,
    principal: str,
    name: str,
    written: list[WrittenPartition],
    schema: pa.Schema,
    profile: dict[str, Any],
    columns: list[str],
    source: str,
) -> DatasetVersionInfo:
    written.sort(key=lambda part: partition_sort_key(part.values, columns))
    files = [(part, _file_digest(part.path), part.path.stat().st_size) for part in written]
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
    with platform.db.session() as session:
        dataset = session.scalar(sa.select(t.Dataset).where(t.Dataset.name == name))
        if dataset is not None:
            existing = session.scalar(
                sa.select(t.DatasetVersion).where(
                    t.DatasetVersion.dataset_id == dataset.id, t.DatasetVersion.digest == digest
                )
            )
            if existing is not None:
                return version_info(name, existing)
        for part, _, _ in files:
            platform.blobs.put_file(part.path)
        if manifest is not None:
            platform.blobs.put_bytes(manifest)
        if dataset is None:
            dataset = t.Dataset(name=name)
            session.add(dataset)
            session.flush()
        latest = session.scalar(
            sa.select(sa.func.max(t.DatasetVersion.version)).where(
                t.DatasetVersion.dataset_id == dataset.id
            )
        )
        row = t.DatasetVersion(
            dataset_id=dataset.id,
            version=(latest or 0) + 1,
            digest=digest,
            size_bytes=sum(size for _, _, size in files),
            rows=sum(part.rows for part in written),
            schema=described,
            profile=profile,
            source=source[:500],
            created_by=principal,
        )
        session.add(row)
        session.flush()
        if columns:
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
        return version_info(name, row, created=True)
