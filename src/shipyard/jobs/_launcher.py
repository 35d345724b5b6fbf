"""Job workers: starting them as separate processes, noticing when they die, reading their logs."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.jobs._host import HostedProcess
from shipyard.schemas.jobs import LogChunk

_log = logging.getLogger("shipyard.jobs")


class WorkerProcess(Protocol):
    """A started job process: what ``launch_worker`` callers may use."""

    pid: int

    def wait(self) -> int: ...


def launch_worker(
    module: str,
    job_id: str,
    settings: Settings,
    log_path: Path,
    on_exit: Callable[[int], None],
    args: tuple[str, ...] = (),
) -> WorkerProcess:
    """Run ``module`` as ``__main__`` for ``job_id`` (``argv[2:]`` from ``args``), settings on
    stdin; then ``on_exit(code)``.

    By default the process is forked from the warm job host (see ``_host``), which has the
    heavy imports done; the setting ``job_start: spawn`` starts a fresh ``python -m module``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    document = settings.model_dump_json().encode()
    process: WorkerProcess
    if settings.job_start == "spawn":
        process = _spawn(module, [job_id, *args], document, log_path)
    else:
        process = HostedProcess(module, [job_id, *args], document, log_path)

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


def _spawn(module: str, args: list[str], document: bytes, log_path: Path) -> WorkerProcess:
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed interpreter and module, no shell
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    assert process.stdin is not None
    process.stdin.write(document)
    process.stdin.close()
    return process


_MAX_LOG_CHUNK = 256 * 1024


def read_log_chunk(
    path: Path, offset: int, *, status: str, progress: float, message: str
) -> LogChunk:
    """A slice of a worker's log file from byte ``offset``, with the job's current state."""
    if offset < 0:
        raise InvalidInput("must be 0 or more", field="offset")
    data = b""
    if path.exists():
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(_MAX_LOG_CHUNK)
    return LogChunk(
        text=data.decode("utf-8", errors="replace"),
        next_offset=offset + len(data),
        status=status,
        progress=progress,
        message=message,
    )
