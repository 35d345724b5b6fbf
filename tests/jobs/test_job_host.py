"""Job processes: forked from the warm host or spawned, both run the module as ``__main__``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_JOB = """
import json, os, sys
settings = json.loads(sys.stdin.buffer.read())
print(json.dumps({"argv": sys.argv[1:], "home": settings["home"], "name": __name__,
                  "own_session": os.getsid(0) == os.getpid()}))
raise SystemExit(3)
"""

# No ``if __name__ == "__main__"`` guard: a job must never run its launcher's script again.
_LAUNCHER = """
import pathlib, sys, time
from shipyard.config import Settings
from shipyard.jobs._launcher import launch_worker

marker, home, log, start = sys.argv[1:5]
with open(marker, "a") as f:
    f.write("launcher ran\\n")
exits = []
settings = Settings(home=pathlib.Path(home), job_start=start)
process = launch_worker("echo_job", "job-42", settings, pathlib.Path(log), exits.append)
print(process.wait())  # while launch_worker's watcher waits too
for _ in range(500):
    if exits:
        break
    time.sleep(0.01)
print(exits)
"""


@pytest.mark.parametrize("start", ["warm", "spawn"])
def test_a_job_runs_its_module_once_with_settings_on_stdin(tmp_path: Path, start: str) -> None:
    (tmp_path / "echo_job.py").write_text(textwrap.dedent(_JOB))
    launcher = tmp_path / "launcher.py"
    launcher.write_text(textwrap.dedent(_LAUNCHER))
    marker, log = tmp_path / "marker.txt", tmp_path / "job.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run(
        [sys.executable, str(launcher), str(marker), str(tmp_path / "home"), str(log), start],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["3", "[3]"]  # exit code, to both waiters
    assert marker.read_text() == "launcher ran\n"  # once: the job did not re-run the launcher
    report = json.loads(log.read_text().strip().splitlines()[-1])
    assert report == {
        "argv": ["job-42"],
        "home": str(tmp_path / "home"),
        "name": "__main__",
        "own_session": True,
    }
