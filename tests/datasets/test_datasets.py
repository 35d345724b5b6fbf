"""The dataset service through the SDK: in-process and over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.client import Client
from shipyard.errors import InvalidInput, NotFound

CSV = "id,city,amount\n1,Paris,10.5\n2,Oslo,\n3,Paris,7.25\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ingest_profiles_and_versions(client: Client, tmp_path: Path) -> None:
    first = client.datasets.ingest(write(tmp_path, "sales.csv", CSV), "sales")
    assert (first.name, first.version, first.rows, first.created) == ("sales", 1, 3, True)
    assert [c["name"] for c in first.columns] == ["id", "city", "amount"]
    amount = next(c for c in first.profile["columns"] if c["name"] == "amount")
    assert amount["nulls"] == 1
    assert amount["min"] == pytest.approx(7.25)
    assert amount["max"] == pytest.approx(10.5)

    again = client.datasets.ingest(write(tmp_path, "copy.csv", CSV), "sales")
    assert (again.version, again.digest, again.created) == (1, first.digest, False)

    second = client.datasets.ingest(write(tmp_path, "more.csv", CSV + "4,Rome,1.0\n"), "sales")
    assert second.version == 2
    assert [v.version for v in client.datasets.versions("sales")] == [1, 2]
    assert client.datasets.get("sales").version == 2
    assert client.datasets.get("sales@1").rows == 3
    listing = client.datasets.list()
    assert [(d.name, d.versions, d.latest_version, d.latest_rows) for d in listing] == [
        ("sales", 2, 2, 4)
    ]
    head = client.datasets.head("sales@1", rows=2)
    assert head.columns == ["id", "city", "amount"]
    assert head.rows == [
        {"id": 1, "city": "Paris", "amount": 10.5},
        {"id": 2, "city": "Oslo", "amount": None},
    ]


def test_parquet_and_jsonl(client: Client, tmp_path: Path) -> None:
    table = pa.table({"x": [1.0, 2.0], "label": ["a", "b"]})
    pq.write_table(table, tmp_path / "t.parquet")
    assert client.datasets.ingest(tmp_path / "t.parquet", "pq").rows == 2
    jsonl = write(tmp_path, "t.jsonl", '{"x": 1.0, "label": "a"}\n{"x": 2.0, "label": "b"}\n')
    assert client.datasets.ingest(jsonl, "js").rows == 2


@pytest.mark.parametrize(
    ("filename", "content", "field"),
    [
        ("bad.csv", "a,b\n1,2\n3,4,5\n", "file"),
        ("empty.csv", "a,b\n", "file"),
        ("bad.jsonl", '{"a": 1}\n{"a": \n', "file"),
        ("data.xlsx", "whatever", "format"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    client: Client, tmp_path: Path, filename: str, content: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        client.datasets.ingest(write(tmp_path, filename, content), "broken")
    assert caught.value.field == field
    assert client.datasets.list() == []
    blobs = tmp_path / "home" / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]


def test_missing_file_and_bad_names(client: Client, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        client.datasets.ingest(tmp_path / "nope.csv", "x")
    with pytest.raises(InvalidInput) as caught:
        client.datasets.ingest(write(tmp_path, "ok.csv", CSV), "../etc")
    assert caught.value.field == "name"
    with pytest.raises(NotFound):
        client.datasets.get("missing")
    client.datasets.ingest(write(tmp_path, "ok.csv", CSV), "ok")
    with pytest.raises(NotFound):
        client.datasets.get("ok@7")
    with pytest.raises(InvalidInput):
        client.datasets.head("ok", rows=0)
