"""The endpoint and deploy commands as a user runs them, through the CLI's ``main`` in this
process (``tests.cli.inprocess``), on a real home."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.cli.inprocess import run
from tests.endpoints.endpointkit import MODEL, register_versions, write_stats

from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap


def shipyard(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env |= {"SHIPYARD_HOME": str(home), "COLUMNS": "200"}
    return run(env, *args)


def test_variants_canary_rollback_and_history_from_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    platform = Platform.open(Settings(home=home))
    bootstrap(platform)
    register_versions(platform, 2)

    created = shipyard(home, "endpoints", "create", "bc", "--model", f"{MODEL}@1", "--json")
    assert created.returncode == 0, created.stderr
    assert [v["name"] for v in json.loads(created.stdout)["variants"]] == ["primary"]
    bad = shipyard(home, "endpoints", "set-weights", "bc", "primary=-1")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: weights.primary: must be a number from 0 to 1000000")
    # the failing canary's window lies a little ahead, so the CLI's start-up time cannot skip it
    ahead = time.time() // 10 * 10 + 20
    write_stats(platform, "bc", f"{MODEL}-v2", requests=50, errors=5, window_start=ahead)
    rolled = shipyard(
        home,
        "deploy",
        "bc",
        "--model",
        f"{MODEL}@2",
        "--canary-percent",
        "20",
        "--bake",
        "1h",
        "--rollback-on",
        "error_rate>1% or p99_latency>50ms",
    )
    assert rolled.returncode == 1, rolled.stderr
    assert "alarm" in rolled.stdout and "error_rate 10% > 1%" in rolled.stdout
    assert "rolled_back" in rolled.stdout
    deployment = rolled.stdout.split("deployment ")[-1].split()[0]
    shown = shipyard(home, "deployments", "show", deployment)
    assert shown.returncode == 0, shown.stderr
    assert "History" in shown.stdout and "primary=80" in shown.stdout

    nothing = shipyard(home, "deploy", "--rollback", "bc")
    assert nothing.returncode == 1
    assert "no finished deployment to roll back to" in nothing.stderr
    compare = shipyard(home, "endpoints", "compare", "bc")
    assert compare.returncode == 0, compare.stderr
    assert "A/B results of bc" in compare.stdout and "no feedback yet" in compare.stdout
    platform.close()
