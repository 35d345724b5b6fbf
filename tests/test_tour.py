"""The README's tour script runs as a newcomer would: a fresh home, its own folder, to the end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

TOUR = Path(__file__).parents[1] / "examples" / "tour" / "tour.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_tour_trains_evaluates_promotes_and_serves(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    env |= {"SHIPYARD_HOME": str(tmp_path / "home"), "TOUR_PORT": str(_free_port())}
    done = subprocess.run(
        [sys.executable, str(TOUR)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "job succeeded" in done.stdout
    assert "auc min_absolute_change=0.005: pass" in done.stdout
    assert "cancer@2 answers: ['" in done.stdout
    report = (tmp_path / "evaluation.html").read_text()
    assert "roc-curve" in report and "<script" not in report
