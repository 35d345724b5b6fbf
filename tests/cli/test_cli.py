"""The command line, as a user runs it, on a real home directory: each command through the
CLI's ``main`` in this process (``tests.cli.inprocess``), and the server's refusal to bind a
public address as a real process (a server command that must never start in a test's process).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import shipyard as shipyard_process
from tests.cli.inprocess import shipyard

CSV = "a,b,label\n1,2.5,x\n2,3.5,y\n3,1.0,x\n"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_init_prints_the_admin_key_once(home: Path) -> None:
    first = shipyard(home, "init")
    assert first.returncode == 0, first.stderr
    assert "sy_" in first.stdout
    second = shipyard(home, "init")
    assert second.returncode == 0
    assert "sy_" not in second.stdout
    assert "already has an API key" in second.stdout


def test_ingest_list_show_head_as_json(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    ingested = shipyard(home, "datasets", "ingest", str(data), "--name", "demo", "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["version"] == 1
    listed = json.loads(shipyard(home, "datasets", "list", "--json").stdout)
    assert [d["name"] for d in listed] == ["demo"]
    shown = shipyard(home, "datasets", "show", "demo@1")
    assert shown.returncode == 0
    assert "Profile" in shown.stdout and "label" in shown.stdout
    head = json.loads(shipyard(home, "datasets", "head", "demo", "--rows", "2", "--json").stdout)
    assert head["rows"][0] == {"a": 1, "b": 2.5, "label": "x"}
    audit = json.loads(shipyard(home, "audit", "list", "--json").stdout)
    assert audit[0]["action"] == "datasets:Ingest"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["datasets", "ingest", "/no/such/file.csv", "--name", "x"], "does not exist"),
        (["datasets", "show", "missing"], "dataset 'missing' does not exist"),
        (["datasets", "ingest", "{data}", "--name", "bad name"], "name"),
        (["models", "show", "nope@champion"], "model 'nope' does not exist"),
        (["endpoints", "create", "e", "--model", "nope@@1"], "model"),
        (["train", "/no/such/spec.yaml"], "does not exist"),
        (["monitors", "create", "m", "--endpoint", "e", "--kinds", "data,bias"], "kinds"),
        (["monitors", "run", "m", "--window-start", "yesterday"], "window_start"),
        (["monitors", "report", "missing", "-o", "{data}.html"], "monitor 'missing'"),
    ],
)
def test_errors_are_one_line_without_traceback(
    home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    data = tmp_path / "d.csv"
    data.write_text(CSV)
    result = shipyard(home, *[a.replace("{data}", str(data)) for a in args])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert message in lines[0]


def test_server_refuses_a_public_bind_without_the_flag(home: Path) -> None:
    result = shipyard_process(home, "server", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 1
    assert "refusing to listen" in result.stderr
