"""Dataset versions of any size: written from record batches, read back batch by batch.

A version is one Parquet blob (its digest is the file's), or, when partitioned by columns,
several Parquet blobs listed in ``dataset_partitions``; its digest is then the digest of a
canonical JSON manifest of the partitions, which is stored as a blob too. Identical content
gives the same digest either way, so it is stored once. Writing goes through ``_staging``;
versions made by appending files to a parent (stream commits) share their chain's partition
list (see ``_appends``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.data import NumericTextScan, read_parquet_bytes
from shipyard.datasets._staging import (
    VersionStager,
    register_staged,
    with_type_warnings,
)
from shipyard.errors import IntegrityError, InvalidInput
from shipyard.names import check_name
from shipyard.platform import Platform
from shipyard.schemas.datasets import DatasetVersionInfo
from shipyard.security import RequestContext
from shipyard.store import process_scratch
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

BATCH_ROWS = 65_536


@dataclass(frozen=True)
class VersionFile:
    """One stored Parquet file of a version and the partition values of its rows."""

    digest: str
    rows: int
    size_bytes: int
    values: dict[str, Any]


def scratch_directory(platform: Platform) -> Path:
    """Where large intermediate files go: on disk under the Shipyard home, not in /tmp.

    A directory of this process's own, removed at the next start-up if the process dies.
    """
    return process_scratch(platform.settings.home / "tmp")


def version_files(session: Session, row: t.DatasetVersion) -> list[VersionFile]:
    """The Parquet files of a version in order: its partitions, or its one file.

    One indexed query whatever the version's history: an append version reads the first
    ``partition_count`` files of its chain's shared list (see ``_appends``).
    """
    query = sa.select(tt.DatasetPartition).order_by(tt.DatasetPartition.ordinal)
    if row.partition_base_id is not None and row.partition_count is not None:
        query = query.where(
            tt.DatasetPartition.dataset_version_id == row.partition_base_id,
            tt.DatasetPartition.ordinal < row.partition_count,
        )
    else:
        query = query.where(tt.DatasetPartition.dataset_version_id == row.id)
    parts = session.scalars(query).all()
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
    """A version's rows in record batches, one partition file at a time: a sealed file
    through a ranged reader (only the chunks of the columns read are decrypted), any other
    downloaded (and verified) to scratch."""
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
            reader = platform.blobs.ranged_reader(stored.digest)
            path = None
            if reader is None:
                target = Path(tmp) / f"part-{index:05d}.parquet"
                path = platform.blobs.download(stored.digest, target)
            try:
                parquet = pq.ParquetFile(path if reader is None else pa.PythonFile(reader, "r"))
                yield from parquet.iter_batches(
                    batch_size=batch_size, columns=list(columns) if columns else None
                )
                parquet.close()
            except (pa.ArrowException, OSError) as error:
                raise IntegrityError(f"stored dataset is not readable Parquet: {error}") from None
            finally:
                if reader is not None:
                    reader.close()
                if path is not None:
                    path.unlink(missing_ok=True)


def read_version_table(
    platform: Platform, row: t.DatasetVersion, *, session: Session | None = None
) -> pa.Table:
    """The whole table of a version in memory, whatever its layout (its files listed in
    ``session`` when given, e.g. a transaction that just changed them)."""
    if session is None:
        with platform.db.session() as own:
            files = version_files(own, row)
    else:
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
    type_scan: NumericTextScan | None = None,
) -> DatasetVersionInfo:
    """Store record batches as a new version of ``name`` in bounded memory.

    Batches are normalised and must share one schema; a ``pa.RecordBatchReader`` with no
    rows still gives an (empty) version unless ``allow_empty`` is false. The caller
    authorizes: this is not an operation. Content identical to an existing version returns
    that version with ``created=False``. A ``type_scan`` observes the batches; its warnings
    (numeric columns kept as text) are stored in the version's profile.
    """
    check_name(name)
    platform, principal = _who(target, created_by)
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform), prefix="write-") as tmp:
        stager = VersionStager(Path(tmp), partition_by)
        try:
            declared = getattr(batches, "schema", None)
            for batch in batches if type_scan is None else type_scan.passing(batches):
                stager.write(batch)
            staged = stager.finish(
                declared if isinstance(declared, pa.Schema) else None, allow_empty=allow_empty
            )
            with_type_warnings(staged.profile, type_scan)
        except BaseException:
            stager.abort()
            raise
        with platform.db.session() as session:
            return register_staged(session, platform, principal, name, staged, source)


def _who(target: RequestContext | Platform, created_by: str | None) -> tuple[Platform, str]:
    if isinstance(target, RequestContext):
        return target.platform, created_by or target.principal
    return target, created_by or "system"
