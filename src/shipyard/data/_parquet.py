"""Canonical Parquet encoding of a dataset: the bytes a dataset version's digest is taken of."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import IntegrityError

ROW_GROUP_ROWS = 1 << 20
# The canonical writer settings: a dataset version's bytes (and so its digest) depend on them.
CANONICAL_WRITER_OPTIONS: dict[str, object] = {
    "version": "2.6",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "1.0",
}


def write_parquet_bytes(table: pa.Table, *, marker: dict[str, str] | None = None) -> bytes:
    """Encode ``table`` as zstd Parquet with statistics, byte-identical for identical content.

    Identical means the same column names, Arrow types and values: how the table is split
    into chunks and any schema metadata do not matter, but the same data read from CSV and
    from JSON lines may differ in type (a date from CSV is a timestamp from JSON). The bytes
    also depend on the pyarrow version, which is written into the file footer. A ``marker``
    is written as the file's key-value metadata (an erasure request's id), so the same rows
    give a different file.
    """
    canonical = pa.Table.from_arrays(table.columns, names=table.column_names)
    if marker:  # key-value metadata in the footer: the same rows, a different file
        canonical = canonical.replace_schema_metadata(marker)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(
        sink,
        canonical.schema,
        **CANONICAL_WRITER_OPTIONS,
    ) as writer:
        for start in range(0, canonical.num_rows, ROW_GROUP_ROWS):
            # Page boundaries follow chunk boundaries, so each row group is written as one chunk.
            rows = canonical.slice(start, ROW_GROUP_ROWS).combine_chunks()
            writer.write_table(rows, row_group_size=ROW_GROUP_ROWS)
    return bytes(sink.getvalue().to_pybytes())


def read_parquet_bytes(data: bytes) -> pa.Table:
    """Decode bytes written by ``write_parquet_bytes``; IntegrityError if they are not Parquet."""
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"stored dataset is not a readable Parquet file: {error}") from None
