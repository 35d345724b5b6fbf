"""``shipyard features`` as a user types it: apply, list, show, retrieve, materialize, online."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.features.conftest import write_feature_data

from shipyard.cli import main
from shipyard.cli._context import STATE
from shipyard.config import Settings


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[object]:
    """Run the CLI in this process on a fresh home; returns (exit code, stdout, stderr)."""
    STATE.url, STATE.api_key = None, None
    STATE._settings, STATE._client = Settings(home=tmp_path / "home"), None

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield invoke
    if STATE._client is not None:
        STATE._client.close()
    STATE._settings, STATE._client = None, None


def test_feature_commands(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    paths = write_feature_data(tmp_path / "data")
    for name in ("drivers", "customers", "trips"):
        assert invoke("datasets", "ingest", str(paths[name]), "--name", name)[0] == 0
    code, out, err = invoke("features", "apply", str(paths["views"]))
    assert code == 0, err
    assert "driver_stats@1 created" in out and "customer_spend@1 created" in out
    code, out, _ = invoke("features", "list", "--json")
    assert [v["name"] for v in json.loads(out)] == ["customer_spend", "driver_stats"]
    code, out, _ = invoke("features", "show", "driver_stats@1")
    assert code == 0 and "rate" in out and "float" in out
    code, out, err = invoke(
        "features", "retrieve", "--entities", "trips", "-f", "driver_stats", "-o", "train", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["rows"] == 5
    code, out, err = invoke("features", "materialize", "driver_stats", "--end", "2024-01-10")
    assert code == 0, err
    assert "3 entities from drivers@1" in out and "sqlite" in out
    code, out, err = invoke(
        "features",
        "online",
        "driver_stats:trips",
        "-e",
        "driver_id=1",
        "-e",
        "driver_id=5",
        "--json",
    )
    assert code == 0, err
    assert [r["driver_stats__trips"] for r in json.loads(out)["rows"]] == [6, None]
    code, out, _ = invoke("features", "materialize", "driver_stats", "--incremental", "--json")
    assert json.loads(out)["start"].startswith("2024-01-10")

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: nope\nsource: drivers\nentities: [driver]\nevent_time: ts\nfeatures: [rate]\n"
    )
    code, _, err = invoke("features", "apply", str(bad))
    assert code == 1
    assert "entities" in err and "'driver'" in err
    untimed = tmp_path / "untimed.csv"
    untimed.write_text("driver_id,label\n1,0\n")
    code, _, err = invoke(
        "features", "retrieve", "--entities", str(untimed), "-f", "driver_stats", "-o", "x"
    )
    assert code == 1 and "timestamp_column" in err
    code, _, err = invoke("features", "materialize", "driver_stats", "--start", "yesterday")
    assert code == 1 and "ISO 8601" in err
    code, _, err = invoke("features", "binding", "no-endpoint")
    assert code == 1 and "no feature binding" in err
