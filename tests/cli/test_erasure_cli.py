"""``shipyard datasets erase|delete|erasures`` and ``shipyard retention`` end to end, through
the CLI's ``main`` in this process (``tests.cli.inprocess``) in a fresh home."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inprocess import shipyard

from shipyard.client import Client
from shipyard.config import Settings


def _ingest(home: Path, path: Path, name: str) -> None:
    with Client(settings=Settings(home=home)) as sdk:
        sdk.datasets.ingest(path, name)


def test_erase_by_values_and_a_values_file_then_list_and_delete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "people.csv"
    data.write_text("customer_id,email\n" + "".join(f"{i},p{i}@x.test\n" for i in range(1, 21)))
    _ingest(home, data, "people")
    values = tmp_path / "ids.txt"
    values.write_text("7\n\n9\n")

    done = shipyard(
        home, "datasets", "erase", "people", "--key", "customer_id", "--values", "3",
        "--values-file", str(values), "--reason", "DSR-7", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    erasure = json.loads(done.stdout)
    assert erasure["value_count"] == 3 and erasure["rows_removed"] == 3
    assert "DSR-7" in shipyard(home, "datasets", "erasures", "people").stdout

    unknown = shipyard(
        home, "datasets", "erase", "people", "--key", "nope", "--values", "1", "--reason", "x"
    )
    assert unknown.returncode == 1 and "key" in unknown.stderr and "nope" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    missing = shipyard(home, "datasets", "erase", "people", "--key", "customer_id", "--reason", "x")
    assert missing.returncode == 2 and "--values" in missing.stderr

    deleted = shipyard(home, "datasets", "delete", "people@1", "--reason", "gone")
    assert deleted.returncode == 0 and "people@1" in deleted.stdout
    shown = shipyard(home, "datasets", "show", "people@1")
    assert shown.returncode == 1 and "deleted on" in shown.stderr


def test_retention_set_list_apply(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = tmp_path / "d.csv"
    for rows in (1, 2, 3):
        data.write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
        _ingest(home, data, "d")
    made = shipyard(home, "retention", "set", "dataset_versions", "d", "--keep-last", "1")
    assert made.returncode == 0, made.stderr
    bad = shipyard(home, "retention", "set", "captures", "ep")
    assert bad.returncode == 1 and "days" in bad.stderr
    dry = shipyard(home, "retention", "apply", "--dry-run", "--json")
    assert json.loads(dry.stdout)["outcomes"][0]["deleted"] == ["d@1", "d@2"]
    applied = json.loads(shipyard(home, "retention", "apply", "--json").stdout)
    assert applied["outcomes"][0]["deleted"] == ["d@1", "d@2"]
