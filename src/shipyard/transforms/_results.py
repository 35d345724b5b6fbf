"""An engine's result as record batches: one schema, whole-number decimals as int64.

DuckDB's SUM over integers is a 128-bit integer that Arrow carries as ``decimal128(38, 0)``,
which a dataset would store as a float; Spark's is a 64-bit integer. Casting whole-number
decimals to int64 (refusing overflow) makes both engines give the same table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import InvalidInput


def _tidy_type(arrow_type: pa.DataType) -> pa.DataType:
    if pa.types.is_decimal(arrow_type) and arrow_type.scale == 0:
        return pa.int64()
    return arrow_type


def tidy_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, _tidy_type(f.type)) for f in schema])


def tidy_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Whole-number decimal columns as int64; InvalidInput if a value does not fit."""
    target = tidy_schema(batch.schema)
    if target == batch.schema:
        return batch
    columns = []
    for field, column in zip(batch.schema, batch.columns, strict=True):
        wanted = _tidy_type(field.type)
        try:
            columns.append(column.cast(wanted) if wanted != field.type else column)
        except pa.ArrowInvalid:
            raise InvalidInput(
                f"column {field.name!r} holds whole numbers too large for 64 bits; "
                "cast it to DOUBLE in the SQL",
                field="sql",
            ) from None
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class ResultBatches:
    """Iterable record batches with a ``schema``, so an empty result still has columns."""

    def __init__(
        self,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        errors: tuple[type[BaseException], ...],
        engine: str,
    ) -> None:
        self.schema = tidy_schema(schema)
        self._batches = batches
        self._errors = errors
        self._engine = engine

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._batches:
                yield tidy_batch(batch)
        except (*self._errors, pa.ArrowException) as error:
            raise InvalidInput(f"SQL error ({self._engine}): {error}", field="sql") from None


def parquet_batches(paths: list[Path]) -> Iterator[pa.RecordBatch]:
    """The record batches of local Parquet files, one file open at a time."""
    for path in paths:
        parquet = pq.ParquetFile(path)
        try:
            yield from parquet.iter_batches(batch_size=65_536)
        finally:
            parquet.close()
