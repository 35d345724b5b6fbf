"""Reading dataset versions back through the SDK: tables, batch streams and exported files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pyarrow.types as pat
from pydantic import BaseModel

from shipyard.client._transport import Transport
from shipyard.errors import InvalidInput
from shipyard.names import parse_reference

EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class ExportSummary(BaseModel):
    """A file written from a dataset version."""

    path: str
    format: str
    rows: int
    size_bytes: int


def open_reader(
    transport: Transport,
    ref: str,
    columns: Sequence[str] | None,
    filter: str | None,
    batch_rows: int | None = None,
) -> pa.RecordBatchReader:
    """The ``datasets.read`` stream of ``name`` or ``name@version``."""
    parsed = parse_reference(ref, field="dataset")
    if parsed.alias is not None:
        raise InvalidInput(
            "a dataset version is a number (name@3) or the latest (name)", field="dataset"
        )
    arguments: dict[str, Any] = {"name": parsed.name, "version": parsed.version, "filter": filter}
    if columns is not None:
        arguments["columns"] = list(columns)
    if batch_rows is not None:
        arguments["batch_rows"] = batch_rows
    reader = transport.call("datasets.read", **arguments)
    assert isinstance(reader, pa.RecordBatchReader)
    return reader


def iter_reader(reader: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The reader's batches; it is closed when they end or the iteration is dropped."""
    try:
        yield from reader
    finally:
        reader.close()


def export_format(path: Path, format: str | None) -> str:
    """``csv`` or ``parquet``: as given, else from the file's extension."""
    chosen = format.lower() if format else EXPORT_FORMATS.get(path.suffix.lower())
    if chosen not in ("csv", "parquet"):
        given = f"{format!r}" if format else f"the extension of {path.name!r}"
        raise InvalidInput(f"cannot export as {given}; choose csv or parquet", field="format")
    return chosen


def export_reader(reader: pa.RecordBatchReader, path: Path, format: str) -> ExportSummary:
    """Write the stream to ``path`` through a temporary file beside it, renamed at the end,
    so a failure leaves no partial file (and an existing file untouched)."""
    if format == "csv":
        _check_csv_columns(reader.schema)
    target = path.absolute()
    if not target.parent.is_dir():
        raise InvalidInput(f"directory {target.parent} does not exist", field="file")
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise InvalidInput(
            f"cannot write in {target.parent}: {error.strerror}", field="file"
        ) from None
    temp = Path(name)
    rows = 0
    try:
        with ExitStack() as stack:
            sink = stack.enter_context(os.fdopen(fd, "wb", buffering=1 << 20))
            writer = stack.enter_context(_writer(sink, reader.schema, format))
            for batch in iter_reader(reader):
                writer.write_batch(batch)
                rows += batch.num_rows
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ExportSummary(
        path=str(target), format=format, rows=rows, size_bytes=target.stat().st_size
    )


def _writer(sink: Any, schema: pa.Schema, format: str) -> Any:
    if format == "csv":
        return pacsv.CSVWriter(sink, schema)
    return pq.ParquetWriter(sink, schema, compression="zstd")


def _check_csv_columns(schema: pa.Schema) -> None:
    for column in schema:
        kind = column.type.value_type if pat.is_dictionary(column.type) else column.type
        if pat.is_nested(kind) or pat.is_binary(kind) or pat.is_large_binary(kind):
            raise InvalidInput(
                f"column {column.name!r} ({column.type}) cannot be written as CSV; "
                "export Parquet, or leave the column out",
                field="format",
            )
