"""``shipyard evaluate`` and ``shipyard models gate`` through the CLI's ``main`` in this process,
and one refusal through the real entry point in a child process."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import shipyard as shipyard_process
from tests.cli.inprocess import shipyard
from tests.evaluation import kit

from shipyard.client import Client
from shipyard.config import Settings


def test_evaluate_writes_the_report_and_fails_unmet_thresholds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Client(settings=Settings(home=home)) as client:
        frame = kit.cancer_frame()
        kit.ingest(client, tmp_path, frame, "cancer-data")
        kit.register(client, tmp_path, "cancer", *kit.fit_classifier(frame, "label", 2), "label")

    report = tmp_path / "report.html"
    met = shipyard(
        home, "evaluate", "cancer@1", "--data", "cancer-data", "--threshold", "auc>=0.5",
        "--resamples", "50", "--report", str(report),
    )  # fmt: skip
    assert met.returncode == 0, met.stderr
    assert "validation passed" in met.stdout and "auc" in met.stdout
    assert b'id="roc-curve"' in report.read_bytes()

    unmet = shipyard(
        home, "evaluate", "cancer@1", "--data", "cancer-data", "--threshold", "auc>=0.9999",
    )  # fmt: skip
    assert unmet.returncode == 1 and "validation failed" in unmet.stdout

    bad = shipyard_process(
        home, "evaluate", "cancer@1", "--data", "cancer-data", "--threshold", "auc>0.9"
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "METRIC>=VALUE" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    gate = shipyard(
        home, "models", "gate", "set", "cancer", "--data", "cancer-data",
        "--threshold", "auc>=0.9999", "--on", "approve",
    )  # fmt: skip
    assert gate.returncode == 0, gate.stderr
    blocked = shipyard(home, "models", "approve", "cancer@1")
    assert blocked.returncode == 1 and "gate blocks approval of cancer@1" in blocked.stderr
    shown = shipyard(home, "models", "show", "cancer@1")
    assert "Gate checks" in shown.stdout and "BLOCKED" in shown.stdout
