"""Read an uploaded CSV, Parquet or JSON-lines file into a normalised Arrow table."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import PurePath

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq

from shipyard.data._normalize import normalize_table
from shipyard.errors import InvalidInput

Source = bytes | str | os.PathLike[str]

_FORMATS = {
    "csv": "csv",
    "parquet": "parquet",
    "pq": "parquet",
    "jsonl": "jsonl",
    "json": "jsonl",
    "ndjson": "jsonl",
}
_CSV_CONVERT = pcsv.ConvertOptions(strings_can_be_null=True)
_JSON_ROW = re.compile(r"\s*in row (\d+)\s*$")
_JSON_COLUMN = re.compile(r"Column\(/([^)]+)\)")
_PARQUET_SOURCE = re.compile(r"^Could not open Parquet input source '[^']*': ")
_SINGLE_BLOCK_LIMIT = 1 << 30


def read_table(
    source: Source, *, format: str | None = None, filename: str | None = None
) -> pa.Table:
    """Read ``source`` (file bytes or a path) as CSV, Parquet or JSON lines.

    The format comes from ``format`` or else the suffix of ``filename`` or the path. In CSV,
    empty cells and the usual markers (NA, NULL, NaN, n/a, ...) are null in every column.
    The table is normalised (see ``normalize_table``); any problem raises InvalidInput
    naming ``file`` or ``format``.
    """
    reader = _READERS[resolve_format(source, format=format, filename=filename)]
    data = _load(source)
    if data.size == 0:
        raise InvalidInput("dataset has no rows: the file is empty", field="file")
    table = reader(data)
    if table.num_rows == 0:
        raise InvalidInput("dataset has no rows", field="file")
    if table.num_columns == 0:
        raise InvalidInput("dataset has no columns", field="file")
    return normalize_table(table)


def resolve_format(
    source: Source, *, format: str | None = None, filename: str | None = None
) -> str:
    """Return "csv", "parquet" or "jsonl" for an explicit format or a file name's suffix."""
    if format is not None:
        resolved = _FORMATS.get(format.strip().lower().lstrip("."))
        if resolved is None:
            raise InvalidInput(
                f"unknown format {format!r}; use csv, parquet or jsonl", field="format"
            )
        return resolved
    name = filename if filename is not None else None if isinstance(source, bytes) else source
    if name is None:
        raise InvalidInput(
            "cannot tell the file's format; pass a format or a file name ending in "
            ".csv, .parquet or .jsonl",
            field="format",
        )
    suffix = PurePath(name).suffix.lower()
    resolved = _FORMATS.get(suffix.lstrip("."))
    if resolved is None:
        shown = repr(suffix) if suffix else "no suffix"
        raise InvalidInput(
            f"cannot tell the format of {os.fspath(name)!r} from its suffix ({shown}); "
            "use .csv, .parquet or .jsonl, or pass a format",
            field="format",
        )
    return resolved


def _load(source: Source) -> pa.Buffer:
    if isinstance(source, bytes):
        return pa.py_buffer(source)
    path = os.fspath(source)
    if not os.path.exists(path):
        raise InvalidInput(f"file {path!r} does not exist", field="file")
    if os.path.isdir(path):
        raise InvalidInput(f"{path!r} is a directory, not a file", field="file")
    try:
        return pa.memory_map(path).read_buffer()
    except OSError as error:
        reason = error.strerror or str(error)
        raise InvalidInput(f"cannot read file {path!r}: {reason}", field="file") from None


def _read_csv(data: pa.Buffer) -> pa.Table:
    try:
        return pcsv.read_csv(pa.BufferReader(data), convert_options=_CSV_CONVERT)
    except pa.ArrowException as error:
        raise InvalidInput(_csv_problem(data, error), field="file") from None


def _csv_problem(data: pa.Buffer, error: pa.ArrowException) -> str:
    detail = str(error).removeprefix("CSV parse error: ")
    if detail.startswith("Empty CSV file"):
        return "dataset has no rows: the file has no header line"
    if not str(error).startswith("CSV parse error"):
        return f"malformed CSV: {detail}"
    bad_rows: list[pcsv.InvalidRow] = []

    def keep_first(row: pcsv.InvalidRow) -> str:
        bad_rows.append(row)
        return "error"

    # Only a single-threaded read tells which row is malformed.
    with contextlib.suppress(pa.ArrowException):
        pcsv.read_csv(
            pa.BufferReader(data),
            read_options=pcsv.ReadOptions(use_threads=False),
            parse_options=pcsv.ParseOptions(invalid_row_handler=keep_first),
            convert_options=_CSV_CONVERT,
        )
    if not bad_rows:
        return f"malformed CSV: {detail}"
    row = bad_rows[0]
    where = f" at row {row.number} (counting the header)" if row.number is not None else ""
    return (
        f"malformed CSV{where}: expected {row.expected_columns} columns "
        f"like the header, got {row.actual_columns}"
    )


def _read_jsonl(data: pa.Buffer) -> pa.Table:
    try:
        return pjson.read_json(pa.BufferReader(data))
    except pa.ArrowException as error:
        raise InvalidInput(_json_problem(data, error), field="file") from None


def _json_problem(data: pa.Buffer, error: pa.ArrowException) -> str:
    if data[:4096].to_pybytes().lstrip()[:1] == b"[":
        return "expected JSON lines (one object per line) but the file holds a JSON array"
    if data.size < _SINGLE_BLOCK_LIMIT:
        # Arrow numbers records within each block; one block gives the record's true number.
        try:
            pjson.read_json(
                pa.BufferReader(data), read_options=pjson.ReadOptions(block_size=data.size + 1)
            )
        except pa.ArrowException as whole_file_error:
            error = whole_file_error
    detail = str(error).removeprefix("JSON parse error: ")
    match = _JSON_ROW.search(detail)
    where = f" at record {int(match.group(1)) + 1}" if match else ""
    detail = _JSON_ROW.sub("", detail)
    if "Column()" in detail:
        detail = "every line must be a JSON object"
    detail = _JSON_COLUMN.sub(lambda found: f"column {found.group(1)!r}", detail)
    return f"malformed JSON lines{where}: {detail}"


def _read_parquet(data: pa.Buffer) -> pa.Table:
    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        detail = _PARQUET_SOURCE.sub("", str(error))
        raise InvalidInput(f"not a readable Parquet file: {detail}", field="file") from None


_READERS: dict[str, Callable[[pa.Buffer], pa.Table]] = {
    "csv": _read_csv,
    "parquet": _read_parquet,
    "jsonl": _read_jsonl,
}
