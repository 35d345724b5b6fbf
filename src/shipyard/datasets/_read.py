"""Reading a version back: chosen columns, rows matching a filter, any size, as a stream.

The stored Parquet files are scanned where they lie (a local store's blobs in place, see
``InPlaceFiles``; sealed blobs through ranged readers that decrypt, and authenticate, only
the chunks holding the footer and the column chunks read), row group by row group, with
the filter pushed down to the row groups' statistics; what comes out is a
``pyarrow.RecordBatchReader`` that the REST layer writes as an Arrow IPC stream and the
in-process SDK hands over as it is. Memory stays bounded by a few row groups whatever the
version's size. The files' digests (a sealed file's chunk tags) are checked while they are
read; a file found corrupt ends the stream with an IntegrityError before its end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from shipyard.data import parse_filter
from shipyard.datasets._access import dataset_resource
from shipyard.datasets._in_place import InPlaceFiles
from shipyard.datasets._service import find_version
from shipyard.datasets._versions import version_files
from shipyard.errors import IntegrityError, InvalidInput
from shipyard.security import RequestContext, operation

READ_BATCH_ROWS = 65_536
MAX_BATCH_ROWS = 1 << 20
# Batches decoded ahead of the consumer: enough to keep the decoder busy while a batch is
# sent. Column chunks are read row group by row group, not pre-buffered for the whole file
# (pyarrow's default caches every requested row group's bytes, so memory grew with the
# version's size); a few row groups (1M rows each, see ``ROW_GROUP_ROWS``) are in flight.
_BATCH_READAHEAD = 2
_FRAGMENT_READAHEAD = 1
_SCAN_OPTIONS = ds.ParquetFragmentScanOptions(pre_buffer=False)


@operation("datasets:ReadData", dataset_resource, mutating=False)
def read(
    ctx: RequestContext,
    name: str,
    version: int | None = None,
    columns: list[str] | None = None,
    filter: str | None = None,
    batch_rows: int = READ_BATCH_ROWS,
) -> pa.RecordBatchReader:
    """Stream a version's rows (the latest when no version is given) as Arrow record batches.

    ``columns`` picks and orders columns (default: all); ``filter`` keeps the rows it
    matches, e.g. ``age > 30 and country = 'FR'`` (see ``shipyard.data.parse_filter``).
    There is no row cap: the rows are read from the stored files as they are consumed.
    """
    if not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise InvalidInput(f"must be between 1 and {MAX_BATCH_ROWS}", field="batch_rows")
    with ctx.platform.db.session() as session:
        row = find_version(session, name, version)
        files = version_files(session, row)
    with ExitStack() as on_error:
        in_place = on_error.enter_context(InPlaceFiles(ctx.platform))
        scanner = _scanner(in_place.sources(files), columns, filter, batch_rows)
        on_error.pop_all()  # from here the stream owns the files
    return pa.RecordBatchReader.from_batches(scanner.projected_schema, _batches(scanner, in_place))


def _scanner(
    sources: list[Path | BinaryIO],
    columns: Sequence[str] | None,
    text: str | None,
    batch_rows: int,
) -> ds.Scanner:
    schema = _stored_schema(sources[0])
    _check_columns(columns, schema)
    expression = parse_filter(text, schema) if text is not None else None
    dataset = _dataset(sources, schema)
    return dataset.scanner(
        columns=list(columns) if columns is not None else None,
        filter=expression,
        batch_size=batch_rows,
        batch_readahead=_BATCH_READAHEAD,
        fragment_readahead=_FRAGMENT_READAHEAD,
        fragment_scan_options=_SCAN_OPTIONS,
        use_threads=True,
    )


def _dataset(sources: list[Path | BinaryIO], schema: pa.Schema) -> ds.Dataset:
    """The files as one dataset; ranged readers (sealed blobs) are read only where needed."""
    if all(isinstance(source, Path) for source in sources):
        return ds.dataset([str(p) for p in sources], schema=schema, format="parquet")
    parquet, local = ds.ParquetFileFormat(), pafs.LocalFileSystem()
    fragments = [
        parquet.make_fragment(str(source), filesystem=local)
        if isinstance(source, Path)
        else parquet.make_fragment(_arrow_file(source))
        for source in sources
    ]
    return ds.FileSystemDataset(fragments, schema, parquet)


def _arrow_file(source: Path | BinaryIO) -> str | pa.NativeFile:
    return str(source) if isinstance(source, Path) else pa.PythonFile(source, mode="r")


def _stored_schema(source: Path | BinaryIO) -> pa.Schema:
    try:
        return pq.read_schema(_arrow_file(source)).remove_metadata()
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"stored dataset is not readable Parquet: {error}") from None


def _check_columns(columns: Sequence[str] | None, schema: pa.Schema) -> None:
    if columns is None:
        return
    if not columns:
        raise InvalidInput("must name at least one column (leave it out for all)", field="columns")
    for index, column in enumerate(columns):
        if schema.get_field_index(column) < 0:
            raise InvalidInput(
                f"no column {column!r} in the dataset (columns: {', '.join(schema.names)})",
                field="columns",
            )
        if column in columns[:index]:
            raise InvalidInput(f"column {column!r} is named twice", field="columns")


def _batches(scanner: ds.Scanner, in_place: InPlaceFiles) -> Iterator[pa.RecordBatch]:
    """The scanner's batches; the files' digest checks must pass before the stream ends."""
    with in_place:
        try:
            for batch in scanner.to_batches():
                if batch.num_rows:
                    yield batch
        except (pa.ArrowException, OSError) as error:
            in_place.verify()
            raise IntegrityError(f"stored dataset is not readable Parquet: {error}") from None
        in_place.verify()
