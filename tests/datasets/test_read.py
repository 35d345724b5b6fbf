"""Reading versions back: read, iter_batches and export, in-process and over HTTP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.conftest import LiveServer

from shipyard.client import Client, HttpTransport
from shipyard.datasets import find_version
from shipyard.errors import AccessDenied, IntegrityError, InvalidInput, NotFound, StorageError
from shipyard.platform import Platform
from shipyard.security import (
    attach_policy,
    context_for,
    create_api_key,
    create_principal,
    put_policy,
)

PEOPLE = (
    "id,name,age,country,joined\n"
    "1,Ann,34,FR,2024-01-05T10:00:00\n"
    "2,Bob,29,FR,2024-02-11T09:30:00\n"
    "3,Cid,,DE,2024-03-01T00:00:00\n"
    "4,Dee,51,ES,2024-03-20T12:00:00\n"
    "5,O'Neil,42,FR,2024-04-02T08:15:00\n"
)


@pytest.fixture
def people(client: Client, tmp_path: Path) -> str:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    return client.datasets.ingest(path, "people").ref


def test_read_whole_version_as_arrow_and_pandas(client: Client, people: str) -> None:
    table = client.datasets.read(people)
    assert table.column_names == ["id", "name", "age", "country", "joined"]
    assert table.column("id").to_pylist() == [1, 2, 3, 4, 5]
    frame = client.datasets.read("people", as_pandas=True)
    assert list(frame["name"]) == ["Ann", "Bob", "Cid", "Dee", "O'Neil"]
    assert frame["age"].isna().tolist() == [False, False, True, False, False]


@pytest.mark.parametrize(
    ("expression", "ids"),
    [
        ("age > 30 and country = 'FR'", [1, 5]),
        ("country in ('DE', 'ES') or age < 30", [2, 3, 4]),
        ("age is null", [3]),
        ("not (country = 'FR') and age is not null", [4]),
        ("name = 'O''Neil'", [5]),
        ("joined >= '2024-03-01' and joined < '2024-04-01'", [3, 4]),
        ("country not in ('FR')", [3, 4]),
    ],
)
def test_filters_pick_the_rows(
    client: Client, people: str, expression: str, ids: list[int]
) -> None:
    table = client.datasets.read(people, columns=["id"], filter=expression)
    assert table.column_names == ["id"]
    assert table.column("id").to_pylist() == ids


def test_columns_are_chosen_and_ordered(client: Client, people: str) -> None:
    table = client.datasets.read(people, columns=["country", "id"], filter="id <= 2")
    assert table.to_pydict() == {"country": ["FR", "FR"], "id": [1, 2]}


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"columns": ["id", "salary"]}, "columns", "no column 'salary'"),
        ({"columns": ["id", "id"]}, "columns", "named twice"),
        ({"filter": "salary > 3"}, "filter", "no column 'salary'"),
        ({"filter": "age > 'old'"}, "filter", "cannot be compared with column 'age'"),
        ({"filter": "age >"}, "filter", "expected a value"),
        ({"filter": "age = null"}, "filter", "is null"),
        ({"filter": "age > 3; drop table x"}, "filter", "unexpected character ';'"),
        ({"filter": "(age > 3"}, "filter", "expected ')'"),
    ],
)
def test_bad_columns_and_filters_name_the_field(
    client: Client, people: str, arguments: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        client.datasets.read(people, **arguments)  # type: ignore[call-overload]
    assert caught.value.field == field
    assert words in str(caught.value)


def test_unknown_version_is_not_found(client: Client, people: str) -> None:
    with pytest.raises(NotFound):
        client.datasets.read("people@9")
    with pytest.raises(NotFound):
        client.datasets.read("nobody")


def test_larger_than_the_old_cap_in_bounded_batches(client: Client, tmp_path: Path) -> None:
    rows = 150_000
    table = pa.table(
        {"n": np.arange(rows, dtype=np.int64), "half": np.arange(rows, dtype=np.int64) % 2 == 0}
    )
    pq.write_table(table, tmp_path / "big.parquet")
    info = client.datasets.ingest(tmp_path / "big.parquet", "big")
    assert info.rows == rows
    sizes, total = [], 0
    for batch in client.datasets.iter_batches("big", batch_rows=20_000):
        sizes.append(batch.num_rows)
        total += pa.compute.sum(batch.column("n")).as_py()
    assert sum(sizes) == rows and max(sizes) <= 20_000 and len(sizes) >= 8
    assert total == rows * (rows - 1) // 2
    evens = client.datasets.read("big", columns=["n"], filter="half = true and n >= 100000")
    assert evens.num_rows == 25_000
    with pytest.raises(InvalidInput) as caught:
        list(client.datasets.iter_batches("big", batch_rows=0))
    assert caught.value.field == "batch_rows"


def test_an_abandoned_iteration_can_be_followed_by_another(client: Client, tmp_path: Path) -> None:
    table = pa.table({"n": np.arange(200_000, dtype=np.int64)})
    pq.write_table(table, tmp_path / "t.parquet")
    client.datasets.ingest(tmp_path / "t.parquet", "t")
    batches = client.datasets.iter_batches("t", batch_rows=1000)
    assert next(batches).num_rows == 1000
    batches.close()  # type: ignore[attr-defined]
    assert client.datasets.read("t", filter="n = 199999").num_rows == 1


def test_partitioned_version_reads_every_partition(
    client: Client, people: str, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    client.datasets.ingest(path, "by_country", partition_by="country")
    table = client.datasets.read("by_country", columns=["id", "country"], filter="age > 30")
    assert sorted(table.column("id").to_pylist()) == [1, 4, 5]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_by_extension(client: Client, people: str, tmp_path: Path, suffix: str) -> None:
    (tmp_path / "exports").mkdir()
    target = tmp_path / "exports" / f"out{suffix}"
    summary = client.datasets.export(
        people, target, filter="country = 'FR'", columns=["id", "name"]
    )
    assert (summary.rows, summary.format) == (3, suffix[1:])
    back = pacsv.read_csv(target) if suffix == ".csv" else pq.read_table(target)
    assert back.to_pydict() == {"id": [1, 2, 5], "name": ["Ann", "Bob", "O'Neil"]}
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_export_failure_leaves_no_file(client: Client, people: str, tmp_path: Path) -> None:
    directory = tmp_path / "exports"
    directory.mkdir()
    target = directory / "out.csv"
    with pytest.raises(InvalidInput) as caught:
        client.datasets.export(people, target, filter="nope = 1")
    assert caught.value.field == "filter"
    with pytest.raises(InvalidInput) as caught:
        client.datasets.export(people, directory / "out.xlsx")
    assert caught.value.field == "format"
    target.write_text("keep me")
    with pytest.raises(InvalidInput):
        client.datasets.export(people, target, columns=["missing"])
    assert target.read_text() == "keep me"
    assert [p.name for p in directory.iterdir()] == ["out.csv"]


def test_read_needs_read_data_on_the_concrete_version(
    platform: Platform, api_server: LiveServer, admin_key: str, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    with Client(api_server.url, api_key=admin_key) as admin_client:
        admin_client.datasets.ingest(path, "people")
        path.write_text(PEOPLE + "6,Eve,23,IT,2024-05-01T00:00:00\n")
        assert admin_client.datasets.ingest(path, "people").version == 2
    admin = context_for(platform, "admin")
    create_principal(admin, "analyst")
    statement = {
        "Effect": "Allow",
        "Action": "datasets:ReadData",
        "Resource": "sy:dataset/people/1",
    }
    put_policy(admin, "first-only", {"Statement": [statement]})
    attach_policy(admin, "analyst", "first-only")
    token = create_api_key(admin, "analyst").token
    with Client(api_server.url, api_key=token) as analyst:
        assert analyst.datasets.read("people@1", filter="age > 40").num_rows == 2
        with pytest.raises(AccessDenied):
            analyst.datasets.read("people")  # the latest is version 2
        with pytest.raises(AccessDenied):
            list(analyst.datasets.iter_batches("people@2"))
        with pytest.raises(AccessDenied):  # refused before the filter is looked at
            analyst.datasets.read("people@2", filter="no such column = 1")
        with pytest.raises(AccessDenied):
            analyst.datasets.export("people", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_stream_cut_short_is_an_error_not_a_short_table(
    client: Client, tmp_path: Path, platform: Platform
) -> None:
    table = pa.table({"n": np.arange(300_000, dtype=np.int64)})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=50_000)
    info = client.datasets.ingest(tmp_path / "t.parquet", "cut")
    with platform.db.session() as session:
        digest = find_version(session, "cut", info.version).digest
    blob = platform.blobs.file_path(digest)  # type: ignore[attr-defined]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    with pytest.raises((IntegrityError, StorageError)) as caught:
        client.datasets.read("cut")  # in-process: the digest check; over HTTP: a cut stream
    assert "corrupt" in str(caught.value) or "broke off" in str(caught.value)
    (tmp_path / "exports").mkdir()
    with pytest.raises((IntegrityError, StorageError)):
        client.datasets.export("cut", tmp_path / "exports" / "cut.parquet")
    assert list((tmp_path / "exports").iterdir()) == []


@pytest.mark.parametrize("missing", [8, 8 + 8_000], ids=["end-marker", "last-batch-part"])
def test_a_stream_without_its_end_marker_is_an_error(missing: int) -> None:
    """A server (or proxy) that ends the body cleanly but early does not give a short table."""
    sink = pa.BufferOutputStream()
    table = pa.table({"n": np.arange(10_000, dtype=np.int64)})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=1000):
            writer.write_batch(batch)
    whole = sink.getvalue().to_pybytes()
    cut = whole[: len(whole) - missing]  # at a message boundary, or inside the last batch

    async def data(request: Request) -> Response:
        body = whole if request.query_params.get("version") == "1" else cut
        return Response(body, media_type="application/vnd.apache.arrow.stream")

    server = LiveServer(Starlette(routes=[Route("/api/v1/datasets/{name}/data", data)]))
    try:
        with Client(transport=HttpTransport(server.url, "key")) as remote:
            assert remote.datasets.read("t@1").num_rows == 10_000
            with pytest.raises(StorageError) as caught:
                remote.datasets.read("t@2")
            assert "broke off" in str(caught.value)
    finally:
        server.close()
