"""The contracts CLI as a user types it: in-process through ``main``, and once as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from shipyard.cli._context import STATE
from shipyard.cli._main import main

Run = Callable[..., tuple[int, str, str]]


def orders_csv(path: Path, *, broken: bool = False) -> Path:
    lines = ["id,amount,country,sku"]
    for i in range(60):
        country = "XX" if broken and i < 3 else ["DE", "FR", "US"][i % 3]
        lines.append(f"{i},{(i * 7) % 90 + 5}.5,{country},AB{1000 + i}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in [k for k in os.environ if k.startswith("SHIPYARD_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    yield tmp_path / "home"
    if STATE._client is not None:
        STATE._client.close()
    STATE.url = STATE.api_key = None
    STATE._settings = STATE._client = None


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_suggest_apply_show_validate(run: Run, tmp_path: Path) -> None:
    assert (
        run("datasets", "ingest", str(orders_csv(tmp_path / "v1.csv")), "--name", "orders")[0] == 0
    )
    contract = tmp_path / "contract.yaml"
    code, out, err = run("contracts", "suggest", "orders@1", "--out", str(contract))
    assert code == 0, err
    assert "wrote contract orders" in out
    document = yaml.safe_load(contract.read_text())
    assert document["columns"]["sku"]["pattern"] == r"^[A-Z]{2}\d{4}$"

    code, out, _ = run("contracts", "apply", str(contract))
    assert (code, "orders@1 created" in out) == (0, True)
    code, out, _ = run("contracts", "list", "--json")
    assert [c["name"] for c in json.loads(out)] == ["orders"]
    code, out, _ = run("contracts", "show", "orders@1")
    assert out.startswith("# orders@1, applied by admin")
    assert yaml.safe_load(out)["columns"]["country"]["allowed_values"] == ["DE", "FR", "US"]

    code, out, _ = run("validate", "orders@1", "--contract", "orders")
    assert code == 0 and "passed" in out and "Checks" in out

    broken = orders_csv(tmp_path / "broken.csv", broken=True)
    code, out, err = run(
        "datasets",
        "ingest",
        str(broken),
        "--name",
        "orders",
        "--contract",
        "orders",
        "--on-fail",
        "reject",
    )
    assert code == 1 and "rejected by contract orders@1" in err and "Traceback" not in err
    code, out, err = run(
        "datasets",
        "ingest",
        str(broken),
        "--name",
        "orders",
        "--contract",
        "orders",
        "--on-fail",
        "quarantine",
    )
    assert code == 0, err
    assert "orders@2 stored: 57 rows" in out and "orders-quarantine@1 quarantined: 3 rows" in out

    assert run("datasets", "ingest", str(broken), "--name", "raw")[0] == 0
    html = tmp_path / "report.html"
    code, out, _ = run("validate", "raw@1", "--contract", "orders@1", "--html", str(html), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["status"] == "failed" and report["dataset"] == "raw@1"
    page = html.read_text()
    assert "<svg" in page and "country.allowed_values" in page
    assert "http" not in page and "src=" not in page
    code, out, _ = run("contracts", "reports", "raw", "--json")
    assert [r["status"] for r in json.loads(out)] == ["failed"]
    code, out, _ = run("contracts", "report", str(report["id"]))
    assert code == 0 and "country.allowed_values" in out and "XX" in out


def test_bad_input_is_one_line(run: Run, tmp_path: Path) -> None:
    run("datasets", "ingest", str(orders_csv(tmp_path / "v1.csv")), "--name", "orders")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: c\ncolumns:\n  id: {uniq: true}\n")
    code, _, err = run("contracts", "apply", str(bad))
    assert code == 1
    assert err.strip() == "error: columns.id.uniq: unknown key 'uniq'; did you mean 'unique'?"
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: c\ncolumns:\n  amuont: {not_null: true}\n")
    assert run("contracts", "apply", str(missing))[0] == 0
    code, _, err = run("validate", "orders", "--contract", "c")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: columns.amuont: column 'amuont' is not in the dataset")
    code, _, err = run("contracts", "show", "nope")
    assert code == 1 and "contract 'nope' does not exist" in err


def test_train_refuses_failed_data_and_the_real_entrypoint_exits_1(
    run: Run, home: Path, tmp_path: Path
) -> None:
    run("datasets", "ingest", str(orders_csv(tmp_path / "v1.csv")), "--name", "orders")
    suggested = tmp_path / "c.yaml"
    run("contracts", "suggest", "orders", "--out", str(suggested))
    run("contracts", "apply", str(suggested))
    broken = orders_csv(tmp_path / "broken.csv", broken=True)
    code, _, err = run(
        "datasets",
        "ingest",
        str(broken),
        "--name",
        "orders",
        "--contract",
        "orders",
        "--on-fail",
        "warn",
    )
    assert code == 0 and "warning: stored although error checks failed" in err
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "dataset: orders@2\ntarget: country\nfeatures: [amount]\ntask: classification\n"
        "estimator: sklearn.tree.DecisionTreeClassifier\n"
    )
    code, _, err = run("train", str(spec), "--no-wait")
    assert code == 1 and "failed its latest validation" in err

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env["SHIPYARD_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "validate", "orders@2", "--contract", "orders"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "failed" in done.stdout and "country.allowed_values" in done.stdout
