"""A few bad cells in a numeric CSV column: the column stays text and the ingest says why."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard import datasets
from shipyard.cli._context import STATE
from shipyard.cli._main import main
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.data import read_table, scan_numeric_text
from shipyard.datasets import _file_batches as file_batches
from shipyard.errors import InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import bootstrap, context_for

BAD = ["?", "abc", "12,5"]
MESSAGE = "column 'age' is text because of 3 non-numeric values: '?', 'abc', '12,5'"


def people_csv(path: Path, rows: int = 40, *, bad: bool = True) -> Path:
    """An ``age`` column of numbers with three bad cells (and a null marker that is fine)."""
    lines = ["id,age,city"]
    for i in range(rows):
        age = str(20 + i % 50)
        if bad and i in (3, 17, 30):
            age = f'"{BAD[[3, 17, 30].index(i)]}"'
        if i == 9:
            age = "n/a"
        lines.append(f"{i},{age},{['Oslo', 'Lima', 'Pune'][i % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_scan_names_the_column_the_count_and_the_first_values(tmp_path: Path) -> None:
    table = read_table(people_csv(tmp_path / "p.csv"))
    assert str(table.schema.field("age").type) == "string"
    [warning] = scan_numeric_text(table)
    assert (warning.column, warning.non_numeric, warning.numeric) == ("age", 3, 36)
    assert warning.examples == BAD
    assert warning.message == MESSAGE


def test_real_text_and_real_numbers_give_no_warning(tmp_path: Path) -> None:
    assert scan_numeric_text(read_table(people_csv(tmp_path / "ok.csv", bad=False))) == []
    many = tmp_path / "many.csv"
    many.write_text("code\n" + "".join(f"x{i}\n" for i in range(20)) + "1\n2\n")
    assert scan_numeric_text(read_table(many)) == []  # mostly text: it is a text column


def test_more_distinct_bad_values_than_shown_are_marked(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("v\n" + "".join(f"{i}\n" for i in range(100)) + "a\nb\nc\nd\ne\nf\nf\n")
    [warning] = scan_numeric_text(read_table(path))
    assert warning.non_numeric == 7 and warning.examples == ["a", "b", "c", "d", "e"]
    assert warning.message.endswith("'a', 'b', 'c', 'd', 'e', ...")


def test_ingest_returns_and_stores_the_warning(client: Client, tmp_path: Path) -> None:
    info = client.datasets.ingest(people_csv(tmp_path / "p.csv"), "people")
    assert [w.message for w in info.warnings] == [MESSAGE]
    assert {c["name"]: c["type"] for c in info.columns}["age"] == "string"  # kept as text
    assert [w.column for w in client.datasets.get("people@1").warnings] == ["age"]
    again = client.datasets.ingest(people_csv(tmp_path / "p.csv"), "people")
    assert not again.created and [w.message for w in again.warnings] == [MESSAGE]
    clean = client.datasets.ingest(people_csv(tmp_path / "ok.csv", bad=False), "clean")
    assert clean.warnings == []


def test_streamed_and_partitioned_ingest_warn_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = Platform.open(Settings(home=tmp_path / "home", ingest_in_memory_max_bytes=0))
    bootstrap(platform)
    ctx = context_for(platform, "admin")
    monkeypatch.setattr(file_batches, "BLOCK_BYTES", 16 * 1024)
    path = tmp_path / "big.csv"
    # The first block is all numbers; the bad cells come later and widen the column to text.
    path.write_text("id,age\n" + "".join(f"{i},{i % 90}\n" for i in range(5_000)) + "5000,?\n")
    streamed = datasets.ingest(ctx, "big", path)
    assert [w.message for w in streamed.warnings] == [
        "column 'age' is text because of 1 non-numeric value: '?'"
    ]
    parted = datasets.ingest(ctx, "parted", people_csv(tmp_path / "p.csv"), partition_by="city")
    assert [w.message for w in parted.warnings] == [MESSAGE]
    platform.close()


def test_a_contract_declaring_the_column_numeric_refuses_the_file(
    client: Client, tmp_path: Path
) -> None:
    client.contracts.apply({"name": "people", "columns": {"age": {"type": "integer"}}})
    with pytest.raises(InvalidInput) as refused:
        client.contracts.ingest(people_csv(tmp_path / "p.csv"), "people", "people")
    assert f"age.type ({MESSAGE})" in refused.value.message
    assert "nothing was stored" in refused.value.message
    with pytest.raises(NotFound):
        client.datasets.get("people")
    stored = client.contracts.ingest(
        people_csv(tmp_path / "p.csv"), "people", "people", on_fail="warn"
    )
    assert stored.dataset is not None and [w.column for w in stored.dataset.warnings] == ["age"]
    [check] = [c for c in stored.report.checks if c.label == "age.type"]
    assert not check.passed and check.message == MESSAGE
    assert check.sample == [{"age": value} for value in BAD]


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    for key in [k for k in os.environ if k.startswith("SHIPYARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "250")

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield invoke
    if STATE._client is not None:
        STATE._client.close()
    STATE.url = STATE.api_key = None
    STATE._settings = STATE._client = None


def test_the_cli_prints_the_warning(run: Run, tmp_path: Path) -> None:
    code, out, err = run("datasets", "ingest", str(people_csv(tmp_path / "p.csv")), "-n", "people")
    assert code == 0, err
    assert "people@1 created: 40 rows" in out
    assert f"warning: {MESSAGE} (kept as text;" in " ".join(err.split())
    code, out, err = run(
        "datasets", "ingest", str(people_csv(tmp_path / "ok.csv", bad=False)), "-n", "clean"
    )
    assert code == 0 and "warning" not in err
    run("contracts", "apply", str(_contract(tmp_path)))
    code, out, err = run(
        "datasets", "ingest", str(people_csv(tmp_path / "p.csv")), "-n", "gated", "--contract", "p"
    )
    assert code == 1 and "age.type (column 'age' is text because of 3" in " ".join(err.split())


def _contract(tmp_path: Path) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text("name: p\ncolumns:\n  age:\n    type: float\n")
    return path
