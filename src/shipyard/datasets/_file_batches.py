"""Read a CSV, Parquet or JSON Lines file of any size as a stream of record batches.

Parquet is read row group by row group. CSV and JSON Lines are parsed in blocks; CSV column
types are inferred from the first block, and when a later block holds a value the inferred
type cannot (``1.5`` in an integer column), the read starts over with that column widened
to integer, float or text, whichever holds the value. Problems raise InvalidInput naming
``file``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from shipyard.errors import InvalidInput

# Arrow's streaming readers read up to 32 blocks ahead of the consumer; 4 MiB blocks bound
# that read-ahead to 128 MiB whatever the file's size (16 MiB blocks allowed 512 MiB).
BLOCK_BYTES = 4 * 1024 * 1024
PARQUET_BATCH_ROWS = 65_536

_CSV_COLUMN = re.compile(
    r"^In CSV column #(\d+): CSV conversion error to (\w+): invalid value '(.*)'$", re.DOTALL
)
_RANK = {"null": 0, "int64": 1, "double": 2}

T = TypeVar("T")


class _Widen(Exception):
    def __init__(self, column: str, wider: pa.DataType) -> None:
        super().__init__(column)
        self.column, self.wider = column, wider


def read_file_batches(
    path: Path | bytes,
    fmt: str,
    consume: Callable[[Iterator[pa.RecordBatch]], T],
    *,
    column_types: Mapping[str, pa.DataType] | None = None,
) -> T:
    """Call ``consume`` with the file's batches; CSV may be read again with wider types.

    ``path`` may also be the file's bytes already in memory. ``column_types`` fixes CSV
    column types (say, those a first pass settled on, so a second pass reads the same).
    ``consume`` must not keep state from an abandoned attempt: it is called afresh each time.
    """
    if fmt == "parquet":
        return consume(_parquet_batches(path))
    if fmt == "jsonl":
        return consume(_jsonl_batches(path))
    overrides: dict[str, pa.DataType] = dict(column_types or {})
    while True:
        try:
            return consume(_csv_batches(path, overrides))
        except _Widen as widen:
            overrides[widen.column] = widen.wider


def _opened(path: Path | bytes) -> Path | pa.BufferReader:
    return pa.BufferReader(path) if isinstance(path, bytes) else path


def _parquet_batches(path: Path | bytes) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(_opened(path))
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", field="file") from None
    try:
        yield from parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS)
    except (pa.ArrowException, OSError) as error:
        raise InvalidInput(f"not a readable Parquet file: {error}", field="file") from None
    finally:
        parquet.close()


def _csv_batches(path: Path | bytes, overrides: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    convert = pcsv.ConvertOptions(strings_can_be_null=True, column_types=overrides)
    try:
        reader = pcsv.open_csv(
            _opened(path),
            read_options=pcsv.ReadOptions(block_size=BLOCK_BYTES),
            convert_options=convert,
        )
    except pa.ArrowException as error:
        raise InvalidInput(_csv_problem(error), field="file") from None
    with reader:
        names = reader.schema.names
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                match = _CSV_COLUMN.match(str(error))
                if match is None:
                    raise InvalidInput(_csv_problem(error), field="file") from None
                column = names[int(match.group(1))]
                raise _Widen(column, _wider(match.group(2), match.group(3))) from None
            yield batch


def _wider(current: str, value: str) -> pa.DataType:
    """The narrowest of int64, float64 and string wider than ``current`` that holds ``value``."""
    rank = _RANK.get(current, 3)
    for candidate_rank, candidate, parse in ((1, pa.int64(), int), (2, pa.float64(), float)):
        if rank < candidate_rank:
            try:
                parse(value)
            except ValueError:
                continue
            return candidate
    return pa.string()


def _csv_problem(error: pa.ArrowException) -> str:
    detail = str(error)
    if detail.startswith("Empty CSV file"):
        return "dataset has no rows: the file has no header line"
    return "malformed CSV: " + detail.removeprefix("CSV parse error: ")


def _jsonl_batches(path: Path | bytes) -> Iterator[pa.RecordBatch]:
    try:
        reader = pjson.open_json(
            _opened(path), read_options=pjson.ReadOptions(block_size=BLOCK_BYTES)
        )
        with reader:
            yield from reader
    except pa.ArrowException as error:
        detail = str(error).removeprefix("JSON parse error: ")
        raise InvalidInput(f"malformed JSON lines: {detail}", field="file") from None
