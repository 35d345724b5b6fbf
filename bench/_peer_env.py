"""Peer tools in their own virtualenvs (bench/.venv-<tool>), created once and reused."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def ensure_venv(tool: str, packages: list[str]) -> Path:
    """The python of bench/.venv-<tool>, with ``packages`` installed on first use."""
    venv = HERE / f".venv-{tool}"
    python = venv / "bin" / "python"
    marker = venv / ".bench-ready"
    wanted = json.dumps(sorted(packages))
    if marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    marker.write_text(wanted)
    return python


def run_worker(python: Path | str, script: str, *args: str) -> dict[str, object]:
    """Run a worker script under ``python``; its last stdout line is a JSON result."""
    done = subprocess.run(
        [str(python), str(HERE / script), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed under {python}:\n{done.stderr[-4000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """One result whose timings are the medians of several runs' timings."""
    merged = dict(runs[-1])
    for key, value in runs[0].items():
        if isinstance(value, float):
            merged[key] = statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
    return merged
