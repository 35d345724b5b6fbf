"""``shipyard tune`` through the CLI's ``main``: a spec file naming its training spec
file, followed trial by trial; the best registered in one command; a bad spec in one line
naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from tests.cli.inprocess import shipyard

from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.client import Client
from shipyard.config import Settings


def test_tune_follow_register_report_and_refuse(tmp_path: Path) -> None:
    home = tmp_path / "home"
    csv = write_breast_cancer_csv(tmp_path / "bc.csv")
    with Client(settings=Settings(home=home)) as client:
        client.datasets.ingest(csv, "bc")
    training = {
        "dataset": "bc@1",
        "target": "diagnosis",
        "task": "classification",
        "estimator": "lightgbm.LGBMClassifier",
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(training))
    spec = {
        "training": "train.yaml",
        "objective": {"metric": "roc_auc"},
        "max_trials": 2,
        "search_space": {"n_estimators": {"type": "int", "low": 5, "high": 20}},
    }
    (tmp_path / "tune.yaml").write_text(yaml.safe_dump(spec))
    done = shipyard(home, "tune", str(tmp_path / "tune.yaml"))
    assert done.returncode == 0, done.stderr
    assert "trial 0 [1/2] n_estimators=" in done.stdout and "best roc_auc=" in done.stdout
    job = re.search(r"tuning job (\w{32})", done.stdout)
    assert job is not None

    registered = shipyard(home, "tune", "best", job[1], "--register", "tuned")
    assert registered.returncode == 0, registered.stderr
    assert "registered tuned@1" in registered.stdout

    spec["search_space"] = {"n_estimators": {"type": "int", "low": 50, "high": 5}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(spec))
    bad = shipyard(home, "tune", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "search_space.n_estimators.low" in lines[0]
