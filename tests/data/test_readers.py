"""read_table: formats, format inference, normalisation and every rejected input."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.data import read_table
from shipyard.errors import InvalidInput

CSV = (
    b"id,price,name,active,day,seen\n"
    b"1,2.5,apple,true,2024-01-02,2024-01-02T10:00:00\n"
    b"2,,,false,2024-01-03,2024-01-03T11:30:00\n"
    b"3,4.0,cherry,,2024-01-04,\n"
)
JSONL = b'{"id": 1, "name": "apple"}\n{"id": 2, "name": null}\n\n{"id": 3, "name": "cherry"}\n'


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def rejected(source: bytes | str | Path, **kwargs: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        read_table(source, **kwargs)
    return caught.value


def test_csv_columns_get_types_and_empty_cells_become_nulls(tmp_path: Path) -> None:
    path = tmp_path / "fruit.csv"
    path.write_bytes(CSV)

    table = read_table(path)

    assert table.schema.types == [
        pa.int64(),
        pa.float64(),
        pa.string(),
        pa.bool_(),
        pa.date32(),
        pa.timestamp("s"),
    ]
    assert table.column("name").to_pylist() == ["apple", None, "cherry"]
    assert table.column("price").to_pylist() == [2.5, None, 4.0]
    assert table.column("day")[0].as_py() == datetime.date(2024, 1, 2)
    assert table.column("seen")[1].as_py() == datetime.datetime(2024, 1, 3, 11, 30)


def test_str_path_and_bytes_with_filename_read_the_same(tmp_path: Path) -> None:
    path = tmp_path / "fruit.csv"
    path.write_bytes(CSV)

    assert read_table(str(path)).equals(read_table(CSV, filename="upload.CSV"))


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson", ".json"])
def test_json_lines_suffixes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"fruit{suffix}"
    path.write_bytes(JSONL)

    table = read_table(path)

    assert table.to_pydict() == {"id": [1, 2, 3], "name": ["apple", None, "cherry"]}


@pytest.mark.parametrize("fmt", ["jsonl", "json", "ndjson", "JSONL"])
def test_json_lines_format_names(fmt: str) -> None:
    assert read_table(JSONL, format=fmt).num_rows == 3


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_file(tmp_path: Path, suffix: str) -> None:
    original = pa.table({"x": [1, 2, 3], "y": ["a", "b", None]})
    path = tmp_path / f"data{suffix}"
    pq.write_table(original, path)

    assert read_table(path).equals(original)


def test_explicit_format_wins_over_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "really-csv.txt"
    path.write_bytes(CSV)

    assert read_table(path, format="csv").num_rows == 3
    assert read_table(JSONL, format="jsonl", filename="x.csv").num_rows == 3


def test_parquet_columns_are_normalised() -> None:
    stamp = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    original = pa.table(
        {
            "colour": pa.array(["red", "blue", "red"]).dictionary_encode(),
            "label": pa.array(["a", "b", "c"], pa.large_string()),
            "empty": pa.nulls(3),
            "at": pa.array([stamp] * 3, pa.timestamp("ms", tz="UTC")),
        }
    ).replace_schema_metadata({"pandas": "{}"})

    table = read_table(parquet_bytes(original), format="parquet")

    assert table.schema.types == [
        pa.string(),
        pa.string(),
        pa.string(),
        pa.timestamp("ms", tz="UTC"),
    ]
    assert table.column("colour").to_pylist() == ["red", "blue", "red"]
    assert table.column("at")[0].as_py() == stamp
    assert table.schema.metadata is None


def test_missing_file(tmp_path: Path) -> None:
    error = rejected(tmp_path / "absent.csv")

    assert error.field == "file"
    assert "does not exist" in error.message


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()

    error = rejected(folder)

    assert error.field == "file"
    assert "directory" in error.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.csv"
    path.write_bytes(CSV)
    path.chmod(0)

    error = rejected(path)

    assert error.field == "file"
    assert "cannot read" in error.message


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK")

    error = rejected(path)

    assert error.field == "format"
    assert "'.xlsx'" in error.message


def test_unknown_format_name() -> None:
    error = rejected(CSV, format="excel")

    assert error.field == "format"
    assert "'excel'" in error.message


def test_bytes_without_format_or_filename() -> None:
    error = rejected(CSV)

    assert error.field == "format"
    assert "cannot tell" in error.message


def test_ragged_csv_names_the_row() -> None:
    error = rejected(b"a,b,c\n1,2,3\n4,5\n6,7,8\n", format="csv")

    assert error.field == "file"
    assert error.message == (
        "malformed CSV at row 3 (counting the header): expected 3 columns like the header, got 2"
    )


def test_ragged_row_deep_in_a_large_csv_is_located() -> None:
    body = b"".join(b"%d,%d\n" % (i, i) for i in range(300_000))
    error = rejected(b"a,b\n" + body + b"1,2,3\n", format="csv")

    assert "at row 300002 " in error.message


def test_broken_json_line_names_the_record() -> None:
    error = rejected(b'{"a": 1}\n{"a": 2\n{"a": 3}\n', format="jsonl")

    assert error.field == "file"
    assert error.message.startswith("malformed JSON lines at record 2:")


def test_broken_json_line_deep_in_a_large_file_is_numbered_from_the_start() -> None:
    body = b"".join(b'{"a": %d}\n' % i for i in range(300_000))
    error = rejected(body + b'{"a": \n', format="jsonl")

    assert "at record 300001:" in error.message


def test_json_array_is_not_json_lines() -> None:
    error = rejected(b'[{"a": 1}, {"a": 2}]', format="json")

    assert "JSON array" in error.message


def test_json_lines_must_hold_objects() -> None:
    error = rejected(b"1\n2\n", format="jsonl")

    assert "every line must be a JSON object" in error.message


def test_json_column_changing_type() -> None:
    error = rejected(b'{"a": 1}\n{"a": "x"}\n', format="jsonl")

    assert (
        error.message
        == "malformed JSON lines at record 2: column 'a' changed from number to string"
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_empty_input_has_no_rows(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"empty.{fmt}"
    path.touch()

    error = rejected(path)

    assert error.field == "file"
    assert "dataset has no rows" in error.message


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"a,b\n", "csv"),
        (b"\n\n", "jsonl"),
        (parquet_bytes(pa.table({"a": pa.array([], pa.int64())})), "parquet"),
    ],
)
def test_zero_rows(data: bytes, fmt: str) -> None:
    assert rejected(data, format=fmt).message == "dataset has no rows"


def test_csv_without_a_header_line() -> None:
    assert "dataset has no rows" in rejected(b"\n\n", format="csv").message


def test_duplicate_column_names() -> None:
    error = rejected(b"a,b,a\n1,2,3\n", format="csv")

    assert error.field == "file"
    assert error.message == "duplicate column names: 'a'"


@pytest.mark.parametrize("header", [b",b", b"a,  "])
def test_empty_column_name(header: bytes) -> None:
    error = rejected(header + b"\n1,2\n", format="csv")

    assert error.field == "file"
    assert "empty name" in error.message


def test_nested_json_names_the_column() -> None:
    error = rejected(b'{"id": 1, "tags": ["x", "y"]}\n', format="jsonl")

    assert error.field == "file"
    assert "column 'tags'" in error.message
    assert "nested" in error.message


def test_struct_column_in_parquet_names_the_column() -> None:
    data = parquet_bytes(pa.table({"id": [1], "point": [{"x": 1.0, "y": 2.0}]}))

    assert "column 'point'" in rejected(data, format="parquet").message


def test_text_that_is_not_utf8() -> None:
    error = rejected("id,city\n1,Zürich\n".encode("latin-1"), format="csv")

    assert "column 'city'" in error.message
    assert "UTF-8" in error.message


def test_not_a_parquet_file() -> None:
    error = rejected(CSV, format="parquet")

    assert error.field == "file"
    assert "not a readable Parquet file" in error.message
