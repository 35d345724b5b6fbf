"""``shipyard transforms`` and partitioned ingest as a user runs them, through ``main``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard.cli import main
from shipyard.cli._context import STATE

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def shipyard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Run]:
    """The CLI in this process, on a fresh home; returns (exit code, stdout, stderr)."""
    for key in [k for k in os.environ if k.startswith("SHIPYARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(STATE, "_settings", None)
    monkeypatch.setattr(STATE, "_client", None)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    yield run
    if STATE._client is not None:
        STATE._client.close()


def test_apply_run_cached_show_and_lineage(shipyard: Run, tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("id,country,amount\n1,FR,10\n2,FR,5\n3,NO,1\n")
    (tmp_path / "totals.yaml").write_text(
        "name: totals\n"
        "inputs: {orders: orders}\n"
        "sql: |\n"
        "  SELECT country, sum(amount) AS total\n"
        "  FROM orders GROUP BY country\n"
    )
    (tmp_path / "broken.yaml").write_text(
        "name: broken\ninputs: {orders: orders}\nsql: |\n  SELECT *\n  FORM orders\n"
    )
    code, out, err = shipyard(
        "datasets", "ingest", str(tmp_path / "orders.csv"), "-n", "orders",
        "--partition-by", "country",
    )  # fmt: skip
    assert code == 0, err
    assert "2 partitions by country" in out

    code, out, err = shipyard("transforms", "apply", str(tmp_path / "totals.yaml"))
    assert code == 0, err
    assert "totals@1 created: sql transform of orders -> totals" in out
    code, out, err = shipyard("transforms", "run", "totals", "--json")
    assert code == 0, err
    assert (json.loads(out)["output"], json.loads(out)["cached"]) == ("totals@1", False)
    code, out, _ = shipyard("transforms", "run", "totals")
    assert "cached" in out and "totals@1" in out
    code, out, _ = shipyard("transforms", "show", "totals")
    assert "output totals" in out and "FROM orders GROUP BY country" in out

    code, out, _ = shipyard("transforms", "lineage", "totals@1", "--json")
    assert json.loads(out)["edges"] == [
        ["dataset:orders@1", "transform:totals@1"],
        ["transform:totals@1", "dataset:totals@1"],
    ]
    code, out, err = shipyard("transforms", "apply", str(tmp_path / "broken.yaml"))
    assert code == 1
    assert err.startswith("error: sql: SQL error: Parser Error")
    assert "LINE 2: FORM orders" in err
