"""Write a stream of tables into local Parquet files, one per partition, in bounded memory.

Rows are buffered per partition and written in row groups of ``ROW_GROUP_ROWS`` rows, with
the encoding of ``write_parquet_bytes``: an unpartitioned stream gives the very bytes the
in-memory path gives for the same table. When the buffers of many partitions together pass
``BUFFER_BYTES``, the largest is written early as a shorter row group. Each file is hashed
as it is written, so storing it as a blob need not read it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shipyard.data._parquet import CANONICAL_WRITER_OPTIONS, ROW_GROUP_ROWS
from shipyard.errors import InvalidInput

BUFFER_BYTES = 256 * 1024 * 1024
SINK_BUFFER_BYTES = 1 << 20
MAX_PARTITIONS = 1000

PartitionKey = tuple[Any, ...]


@dataclass
class WrittenPartition:
    """One finished partition file."""

    values: dict[str, Any]
    path: Path
    rows: int
    digest: str
    size_bytes: int


class _HashingFile:
    """A write-only file that hashes the bytes on their way to disk."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO = path.open("wb")
        self._hasher = hashlib.sha256()
        self.size = 0

    @property
    def closed(self) -> bool:
        return self._file.closed

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | memoryview) -> int:
        self._hasher.update(data)
        self.size += len(data)
        return self._file.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def digest(self) -> str:
        return "sha256:" + self._hasher.hexdigest()


@dataclass
class _Open:
    values: dict[str, Any]
    path: Path
    file: _HashingFile
    stream: pa.NativeFile
    writer: pq.ParquetWriter
    rows: int = 0
    pending: list[pa.Table] = field(default_factory=list)
    pending_rows: int = 0
    pending_bytes: int = 0


class PartitionWriter:
    """Route each table's rows to the file of their partition values."""

    def __init__(self, directory: Path, schema: pa.Schema, partition_by: list[str]) -> None:
        for name in partition_by:
            index = schema.get_field_index(name)
            if index < 0:
                raise InvalidInput(
                    f"partition column {name!r} is not a column of the dataset "
                    f"(columns: {', '.join(schema.names)})",
                    field="partition_by",
                )
            if pa.types.is_floating(schema.field(index).type):
                raise InvalidInput(
                    f"cannot partition by float column {name!r}; use an integer, text, "
                    "boolean or date column",
                    field="partition_by",
                )
        self.directory = directory
        self.schema = schema
        self.partition_by = partition_by
        self._open: dict[PartitionKey, _Open] = {}
        self._pending_bytes = 0

    def write(self, table: pa.Table) -> None:
        if not self.partition_by:
            self._append((), {}, table)
        else:
            for key, values, rows in self._split(table):
                self._append(key, values, rows)
        while self._pending_bytes > BUFFER_BYTES:
            largest = max(self._open.values(), key=lambda part: part.pending_bytes)
            self._flush(largest, rows=largest.pending_rows)

    def close(self) -> list[WrittenPartition]:
        """Finish every file; with no rows at all, one empty file."""
        if not self._open:
            self._file((), {})
        done = []
        for part in self._open.values():
            self._flush(part, rows=part.pending_rows)
            part.writer.close()
            part.stream.close()
            done.append(
                WrittenPartition(
                    part.values, part.path, part.rows, part.file.digest(), part.file.size
                )
            )
        self._open.clear()
        return done

    def abort(self) -> None:
        for part in self._open.values():
            part.writer.close()
            part.stream.close()
        self._open.clear()

    def _split(self, table: pa.Table) -> list[tuple[PartitionKey, dict[str, Any], pa.Table]]:
        codes = np.zeros(table.num_rows, dtype=np.int64)
        dictionaries = []
        for name in self.partition_by:
            encoded = pc.dictionary_encode(table.column(name), null_encoding="encode")
            combined = encoded.combine_chunks()
            dictionaries.append(combined.dictionary.to_pylist())
            indices = combined.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            codes = codes * len(dictionaries[-1]) + indices
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
        ends = np.r_[starts[1:], len(order)]
        pieces = []
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            code = int(sorted_codes[start])
            raw = []
            for dictionary in reversed(dictionaries):
                code, index = divmod(code, len(dictionary))
                raw.append(dictionary[index])
            values = {
                name: _json_value(v)
                for name, v in zip(self.partition_by, reversed(raw), strict=True)
            }
            key = tuple(values[name] for name in self.partition_by)
            pieces.append((key, values, table.take(pa.array(order[start:end]))))
        return pieces

    def _append(self, key: PartitionKey, values: dict[str, Any], table: pa.Table) -> None:
        part = self._open.get(key) or self._file(key, values)
        part.pending.append(table)
        part.pending_rows += table.num_rows
        part.pending_bytes += table.nbytes
        self._pending_bytes += table.nbytes
        while part.pending_rows >= ROW_GROUP_ROWS:
            self._flush(part, rows=ROW_GROUP_ROWS)

    def _file(self, key: PartitionKey, values: dict[str, Any]) -> _Open:
        if len(self._open) >= MAX_PARTITIONS:
            raise InvalidInput(
                f"partitioning by {', '.join(self.partition_by)} gives more than "
                f"{MAX_PARTITIONS} partitions; choose a column with fewer distinct values",
                field="partition_by",
            )
        path = self.directory / f"part-{len(self._open):05d}.parquet"
        file = _HashingFile(path)
        # Buffered in C++ so the encoder's many small writes reach Python as few large ones.
        stream = pa.BufferedOutputStream(pa.PythonFile(file, mode="w"), SINK_BUFFER_BYTES)
        writer = pq.ParquetWriter(
            stream,
            self.schema,
            **CANONICAL_WRITER_OPTIONS,
        )
        part = _Open(values=values, path=path, file=file, stream=stream, writer=writer)
        self._open[key] = part
        return part

    def _flush(self, part: _Open, *, rows: int) -> None:
        if rows == 0:
            return
        buffered = pa.concat_tables(part.pending)
        group = buffered.slice(0, rows).combine_chunks()
        part.writer.write_table(group, row_group_size=ROW_GROUP_ROWS)
        part.rows += rows
        rest = buffered.slice(rows)
        self._pending_bytes -= part.pending_bytes
        part.pending = [rest] if rest.num_rows else []
        part.pending_rows = rest.num_rows
        part.pending_bytes = rest.nbytes if rest.num_rows else 0
        self._pending_bytes += part.pending_bytes


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def partition_sort_key(values: dict[str, Any], partition_by: list[str]) -> tuple[Any, ...]:
    """Order partitions by their values, nulls first."""
    return tuple((values[name] is not None, values[name]) for name in partition_by)
