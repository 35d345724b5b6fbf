"""The SDK on both transports and the CLI: define from a YAML file, run, follow, show."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.inprocess import shipyard

from shipyard.client import Client

SMALL = """
name: small
parameters:
  min_rows: 2
steps:
  - name: ingest
    kind: ingest
    with: {dataset: small, file: small.csv}
  - name: enough
    kind: condition
    with:
      left: "${steps.ingest.rows}"
      op: ">="
      right: "${params.min_rows}"
      then: [again]
      else: [never]
  - name: again
    kind: ingest
    with: {from: "${steps.ingest.dataset}"}
  - name: never
    kind: ingest
    with: {from: small}
"""


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.csv").write_text("a,b\n1,x\n2,y\n3,z\n")
    path = folder / "small.yaml"
    path.write_text(SMALL)
    return path


def test_sdk_defines_runs_and_shows_a_pipeline(client: Client, tmp_path: Path) -> None:
    info = client.pipelines.create(_write(tmp_path / "p"))
    assert info.files == ["small.csv"]
    assert [s.depends_on for s in info.steps] == [[], ["ingest"], ["enough", "ingest"], ["enough"]]
    run = client.pipelines.wait(client.pipelines.run("small").id, timeout=120)
    statuses = {s.name: s.status for s in run.steps}
    assert statuses == {
        "ingest": "succeeded",
        "enough": "succeeded",
        "again": "succeeded",
        "never": "skipped",
    }
    assert run.step("again").outputs == {"dataset": "small@1", "rows": 3}
    high = client.pipelines.wait(client.pipelines.run("small", {"min_rows": 10}).id)
    assert high.step("again").status == "skipped" and high.step("never").status == "succeeded"
    assert [r.id for r in client.pipelines.runs("small")] == [high.id, run.id]
    assert [p.name for p in client.pipelines.list()] == ["small"]


def test_cli_create_run_runs_and_run_show(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = _write(tmp_path / "p")
    created = shipyard(home, "pipelines", "create", str(path))
    assert created.returncode == 0, created.stderr
    ran = shipyard(home, "pipelines", "run", "small", "-p", "min_rows=10", "--json")
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert {s["name"]: s["status"] for s in run["steps"]}["again"] == "skipped"
    shown = shipyard(home, "pipelines", "run-show", run["id"])
    assert shown.returncode == 0 and "skipped" in shown.stdout and "never" in shown.stdout
    listed = shipyard(home, "pipelines", "runs", "small", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [run["id"]]
    bad = shipyard(home, "pipelines", "run", "small", "-p", "nonsense")
    assert bad.returncode != 0 and "KEY=VALUE" in bad.stderr + bad.stdout
