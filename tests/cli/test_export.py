"""``shipyard datasets export`` through the CLI's ``main``: in-process stores and a live server."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from tests.cli.inprocess import shipyard
from tests.conftest import LiveServer

from shipyard.client import Client

CSV = "id,city,amount\n1,Paris,10.5\n2,Oslo,\n3,Paris,7.25\n4,Rome,3.0\n"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    source = tmp_path / "sales.csv"
    source.write_text(CSV)
    assert shipyard(home, "init").returncode == 0
    ingest = shipyard(home, "datasets", "ingest", str(source), "--name", "sales")
    assert ingest.returncode == 0, ingest.stderr
    return home


def test_export_csv_and_parquet_in_process(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    done = shipyard(
        home, "datasets", "export", "sales@1", str(out / "paris.csv"), "--filter", "city = 'Paris'"
    )
    assert done.returncode == 0, done.stderr
    assert "2 rows" in done.stdout
    assert pacsv.read_csv(out / "paris.csv").column("id").to_pylist() == [1, 3]
    as_parquet = shipyard(
        home, "datasets", "export", "sales", str(out / "data.bin"), "--format", "parquet",
        "--columns", "amount,id",
    )  # fmt: skip
    assert as_parquet.returncode == 0, as_parquet.stderr
    assert pq.read_table(out / "data.bin").to_pydict() == {
        "amount": [10.5, None, 7.25, 3.0],
        "id": [1, 2, 3, 4],
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--filter", "amount >"], "filter: expected a value"),
        (["--columns", "id,nope"], "columns: no column 'nope'"),
        (["--format", "xlsx"], "format: cannot export as 'xlsx'"),
    ],
)
def test_export_errors_are_one_line_and_leave_no_file(
    home: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    failed = shipyard(home, "datasets", "export", "sales", str(out / "x.csv"), *args)
    assert failed.returncode == 1
    assert words in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert list(out.iterdir()) == []


def test_export_over_http(api_server: LiveServer, admin_key: str, tmp_path: Path) -> None:
    source = tmp_path / "sales.csv"
    source.write_text(CSV)
    with Client(api_server.url, api_key=admin_key) as client:
        client.datasets.ingest(source, "sales")
    target = tmp_path / "sales.parquet"
    done = shipyard(
        tmp_path / "cli-home", "--url", api_server.url, "--api-key", admin_key,
        "datasets", "export", "sales", str(target), "--filter", "amount is null or id > 3",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert pq.read_table(target).column("id").to_pylist() == [2, 4]
    missing = shipyard(
        tmp_path / "cli-home", "--url", api_server.url, "--api-key", admin_key,
        "datasets", "export", "nothing", str(tmp_path / "n.csv"),
    )  # fmt: skip
    assert missing.returncode == 1 and "nothing" in missing.stderr
    assert not (tmp_path / "n.csv").exists()
