"""``shipyard runs list|compare`` through the CLI's ``main`` in this process
(``tests.cli.inprocess``), on runs logged by the SDK."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.inprocess import shipyard
from tests.cli.test_cli_errors import one_error_line

from shipyard.client import Client
from shipyard.config import Settings


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def logged(home: Path) -> dict[str, str]:
    client = Client(settings=Settings(home=home))
    ids = {}
    try:
        with client.start_run(experiment="cmp", name="sweep") as sweep:
            for name, depth, aucs in (("shallow", 3, [0.7, 0.8]), ("deep", 6, [0.75, 0.9, 0.93])):
                with client.start_run(
                    experiment="cmp", name=name, params={"max_depth": depth, "lr": 0.1}
                ) as child:
                    for step, auc in enumerate(aucs):
                        child.log_metric("auc", auc, step=step)
                    child.log_metric("<script>", 1.0)
                ids[name] = child.id
        ids["sweep"] = sweep.id
    finally:
        client.close()
    return ids


def test_list_filters_orders_and_lists_children(home: Path, logged: dict[str, str]) -> None:
    listed = shipyard(
        home,
        "runs",
        "list",
        "--experiment",
        "cmp",
        "--filter",
        "metrics.auc > 0.5",
        "--order-by",
        "metrics.auc DESC",
        "--json",
    )
    assert listed.returncode == 0, listed.stderr
    page = json.loads(listed.stdout)
    assert [r["name"] for r in page["runs"]] == ["deep", "shallow"]
    assert page["next_page_token"] is None
    children = shipyard(home, "runs", "list", "--parent", logged["sweep"], "-n", "1", "--json")
    first = json.loads(children.stdout)
    assert [r["id"] for r in first["runs"]] == [logged["deep"]]  # newest first
    rest = shipyard(
        home,
        "runs",
        "list",
        "--parent",
        logged["sweep"],
        "-n",
        "1",
        "--page-token",
        first["next_page_token"],
        "--json",
    )
    assert [r["id"] for r in json.loads(rest.stdout)["runs"]] == [logged["shallow"]]
    human = shipyard(home, "runs", "list", "-e", "cmp", "--filter", "params.max_depth = '6'")
    assert "deep" in human.stdout
    assert "shallow" not in human.stdout


def test_a_bad_filter_is_one_line_naming_the_field(home: Path, logged: dict[str, str]) -> None:
    result = shipyard(home, "runs", "list", "-e", "cmp", "--filter", "metrics.auc >> 1")
    assert result.returncode != 0
    line = one_error_line(result)
    assert "filter" in line
    assert "at position 14" in line
    lonely = shipyard(home, "runs", "compare", logged["deep"])
    assert lonely.returncode != 0
    assert "run_ids" in one_error_line(lonely)


def test_compare_side_by_side_and_html_chart(
    home: Path, logged: dict[str, str], tmp_path: Path
) -> None:
    chart = tmp_path / "chart.html"
    result = shipyard(
        home, "runs", "compare", logged["shallow"], logged["deep"], "--html", str(chart)
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert re.search(r"params\.max_depth\s*│\s*3\s*│\s*6", rows["params.max_depth"])
    assert re.search(r"metrics\.auc\s*│\s*0\.8\s*│\s*0\.93", rows["metrics.auc"])
    assert re.search(r"params\.lr\s*│\s*0\.1\s*│\s*0\.1", rows["params.lr"])
    page = chart.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2  # one chart per metric key
    assert "<polyline" in page
    assert "&lt;script&gt;" in page  # keys are escaped, never markup
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    assert "https://" not in page
    as_json = shipyard(home, "runs", "compare", logged["shallow"], logged["deep"], "--json")
    assert [r["name"] for r in json.loads(as_json.stdout)] == ["shallow", "deep"]
    unwritable = shipyard(
        home, "runs", "compare", logged["shallow"], logged["deep"], "--html", str(tmp_path)
    )
    assert unwritable.returncode != 0
    assert "html" in one_error_line(unwritable)


def test_a_long_history_is_charted_in_bounded_size() -> None:
    from datetime import UTC, datetime

    from shipyard.tracking import MetricSeries, RunInfo
    from shipyard.tracking._chart import metric_chart_html

    steps = list(range(100_000))
    values = [1.0 if s == 54_321 else 0.0 for s in steps]  # one spike must survive
    series = MetricSeries(key="loss", steps=steps, values=values, timestamps=[0.0] * len(steps))
    info = RunInfo(
        id="a" * 32,
        experiment="e",
        name="long",
        status="finished",
        created_by="admin",
        start_time=datetime.now(UTC),
        end_time=None,
    )
    page = metric_chart_html([info], [{"loss": series}])
    points = re.search(r'points="([^"]*)"', page)
    assert points is not None
    pairs = [p.split(",") for p in points.group(1).split()]
    assert len(pairs) <= 4 * 600
    assert min(float(y) for _, y in pairs) < 60  # the spike reaches the top of the plot


def test_delete_then_purge_with_a_dry_run_and_clear_refusals(
    home: Path, logged: dict[str, str]
) -> None:
    doomed, live = logged["shallow"], logged["deep"]
    assert shipyard(home, "runs", "delete", doomed).returncode == 0
    missing = shipyard(home, "runs", "purge", doomed)
    assert missing.returncode == 2 and "--reason" in one_error_line(missing)
    refused = shipyard(home, "runs", "purge", doomed, live, "--reason", "gc")
    assert refused.returncode == 1
    assert live in one_error_line(refused) and "not deleted" in refused.stderr
    young = shipyard(home, "runs", "purge", "-e", "cmp", "--older-than", "soon", "--reason", "gc")
    assert young.returncode == 1 and "older_than" in one_error_line(young)

    dry = shipyard(home, "runs", "purge", doomed, "--reason", "gc", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["purged"] == [doomed] and json.loads(dry.stdout)["dry_run"]
    assert shipyard(home, "runs", "show", doomed).returncode == 0  # still there

    done = shipyard(home, "runs", "purge", "-e", "cmp", "--reason", "gc")
    assert done.returncode == 0, done.stderr
    assert "purged 1 runs" in done.stdout and doomed in done.stdout
    shown = shipyard(home, "runs", "show", doomed)
    assert shown.returncode == 1 and re.search(r"purged on .* by \w+: gc", one_error_line(shown))

    rule = shipyard(home, "retention", "set", "deleted_runs", "cmp", "--days", "30")
    assert rule.returncode == 0, rule.stderr
    listed = json.loads(shipyard(home, "retention", "list", "--json").stdout)
    assert [(r["kind"], r["target"], r["days"]) for r in listed] == [("deleted_runs", "cmp", 30)]
