"""Whether a job's process is alive: it holds an exclusive lock on a file of its own.

A pid alone can be reused, and a job forked from the warm job host has the host's command
line, so the process takes ``flock`` on ``<jobs>/<id>.lock`` for as long as it runs;
the kernel drops the lock when the process dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from shipyard.jobs._usage import group_members


def lock_path(jobs_dir: Path, job_id: str) -> Path:
    return jobs_dir / f"{job_id}.lock"


def hold_lock(jobs_dir: Path, job_id: str) -> IO[bytes]:
    """Take the job's lock for the life of this process (keep the returned file open)."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    handle = lock_path(jobs_dir, job_id).open("ab")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a second live attempt fails here
    return handle


def lock_held(jobs_dir: Path, job_id: str) -> bool:
    """Whether a live process holds the job's lock."""
    path = lock_path(jobs_dir, job_id)
    if not path.exists():
        return False
    with path.open("ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a job just started, before it takes its lock)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 0)
        return True
    return False


def group_alive(group: int) -> bool:
    """Whether any process of this process group still runs: one that has ended but is not
    reaped yet by its parent (the job host reaps on its own schedule) does not count."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, 0)
        return bool(group_members(group))
    return False
