"""Starting job workers as separate processes and noticing when they die."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from shipyard.config import Settings

_log = logging.getLogger("shipyard.jobs")


def launch_worker(
    module: str,
    job_id: str,
    settings: Settings,
    log_path: Path,
    on_exit: Callable[[int], None],
) -> subprocess.Popen[bytes]:
    """Run ``python -m module job_id`` with the settings on stdin; call ``on_exit(code)``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed interpreter and module, no shell
            [sys.executable, "-m", module, job_id],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    assert process.stdin is not None
    process.stdin.write(settings.model_dump_json().encode())
    process.stdin.close()

    def watch() -> None:
        code = process.wait()
        try:
            on_exit(code)
        except Exception:  # the platform may be gone by now (shutdown); the job row stays as is
            _log.warning(
                "could not record the exit of job %s (code %s)", job_id, code, exc_info=True
            )

    threading.Thread(target=watch, name=f"watch-{job_id}", daemon=True).start()
    return process
