"""write_parquet_bytes is canonical: identical content gives identical bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shipyard.data import read_parquet_bytes, read_table, write_parquet_bytes
from shipyard.errors import IntegrityError

CSV = b"id,name,score,day\n" + b"".join(
    b"%d,name-%d,%d.25,2024-01-%02d\n" % (i, i % 97, i % 13, i % 28 + 1) for i in range(50_000)
)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_same_csv_read_twice_gives_identical_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(CSV)

    first = write_parquet_bytes(read_table(path))
    second = write_parquet_bytes(read_table(CSV, format="csv"))

    assert digest(first) == digest(second)


def test_chunking_and_metadata_do_not_change_the_bytes() -> None:
    table = read_table(CSV, format="csv")
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=777))
    with_metadata = table.combine_chunks().replace_schema_metadata({"origin": "somewhere"})

    expected = write_parquet_bytes(table)

    assert write_parquet_bytes(rechunked) == expected
    assert write_parquet_bytes(with_metadata) == expected


def test_row_groups_do_not_depend_on_chunking() -> None:
    rows = (1 << 20) + 5_000
    table = pa.table({"n": pa.array(range(rows), pa.int64())})
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=300_001))

    data = write_parquet_bytes(table)

    assert write_parquet_bytes(rechunked) == data
    assert pq.ParquetFile(pa.BufferReader(data)).metadata.num_row_groups == 2


def test_different_content_gives_different_bytes() -> None:
    table = read_table(CSV, format="csv")
    changed = table.set_column(2, "score", pc.add(table.column("score"), 1.0))

    assert write_parquet_bytes(changed) != write_parquet_bytes(table)


def test_round_trip_keeps_types_and_values() -> None:
    table = read_table(CSV, format="csv")

    assert read_parquet_bytes(write_parquet_bytes(table)).equals(table)


def test_zstd_with_statistics() -> None:
    data = write_parquet_bytes(read_table(CSV, format="csv"))

    metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
    chunk = metadata.row_group(0).column(0)
    assert chunk.compression == "ZSTD"
    assert chunk.statistics.has_min_max
    assert (chunk.statistics.min, chunk.statistics.max) == (0, 49_999)


def test_csv_and_json_lines_agree_on_numbers_and_text_only() -> None:
    csv = b"id,name\n1,a\n2,b\n"
    jsonl = b'{"id": 1, "name": "a"}\n{"id": 2, "name": "b"}\n'
    assert write_parquet_bytes(read_table(csv, format="csv")) == write_parquet_bytes(
        read_table(jsonl, format="jsonl")
    )

    # A date is inferred as date32 from CSV but as a timestamp from JSON lines.
    from_csv = read_table(b"day\n2024-01-02\n", format="csv")
    from_json = read_table(b'{"day": "2024-01-02"}\n', format="jsonl")
    assert from_csv.schema.types != from_json.schema.types
    assert write_parquet_bytes(from_csv) != write_parquet_bytes(from_json)


def test_bytes_that_are_not_parquet() -> None:
    data = write_parquet_bytes(read_table(CSV, format="csv"))

    with pytest.raises(IntegrityError, match="not a readable Parquet file"):
        read_parquet_bytes(data[: len(data) // 2])
