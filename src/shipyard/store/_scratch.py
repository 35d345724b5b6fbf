"""Scratch space under the Shipyard home that a killed process cannot leak.

Each process works in a directory of its own, ``<root>/<pid>-<token>/``, and holds an
exclusive ``flock`` on ``<root>/<pid>-<token>.lock`` for as long as it lives; the kernel
drops the lock when the process dies, however it dies. ``sweep_scratch`` removes every
directory whose lock no live process holds, so the spool of a killed upload or the staging
files of a crashed job go at the next start-up, while the files of a live process on the
same home (another server, a job, a CLI command) are never touched. A clean exit removes
the process's own directory at once.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import IO

_STARTED = time.time()
_GUARD = threading.Lock()
_OWNED: dict[Path, tuple[Path, IO[bytes]]] = {}


def process_scratch(root: Path) -> Path:
    """This process's own directory under ``root``: created and locked on first use."""
    root = root.absolute()
    with _GUARD:
        owned = _OWNED.get(root)
        if owned is None:
            owned = _OWNED[root] = _claim(root)
        directory = owned[0]
        directory.mkdir(exist_ok=True)
        return directory


def sweep_scratch(root: Path) -> int:
    """Remove what dead processes left under ``root``; returns how many entries went.

    A directory goes when no live process holds its lock; a loose file or directory with no
    lock of its own (written by an older Shipyard) goes when it is older than this process.
    """
    if not root.is_dir():
        return 0
    removed = 0
    for lock_path in sorted(root.glob("*.lock")):
        removed += _remove_if_abandoned(root, lock_path)
    for entry in list(root.iterdir()):
        if entry.suffix == ".lock" or entry.with_name(entry.name + ".lock").exists():
            continue
        try:
            stale = entry.lstat().st_mtime < _STARTED
        except FileNotFoundError:
            continue
        if stale:
            _remove(entry)
            removed += 1
    return removed


def _claim(root: Path) -> tuple[Path, IO[bytes]]:
    root.mkdir(parents=True, exist_ok=True)
    while True:
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        lock_path = root / f"{name}.lock"
        handle = lock_path.open("xb")
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits out a sweeper that opened it just now
        if _still_named(handle, lock_path):  # else that sweeper removed it: take a new name
            return root / name, handle
        handle.close()


def _remove_if_abandoned(root: Path, lock_path: Path) -> int:
    try:
        handle = lock_path.open("rb")
    except FileNotFoundError:
        return 0
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its process is alive
        if not _still_named(handle, lock_path):
            return 0  # another sweeper removed it meanwhile
        _remove(root / lock_path.stem)
        lock_path.unlink(missing_ok=True)  # last, while still locked
        return 1


def _still_named(handle: IO[bytes], path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(handle.fileno()).st_ino
    except FileNotFoundError:
        return False


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def _release_all() -> None:
    """At a clean exit, remove this process's directories and their locks."""
    for directory, handle in _OWNED.values():
        shutil.rmtree(directory, ignore_errors=True)
        directory.with_name(directory.name + ".lock").unlink(missing_ok=True)
        handle.close()
    _OWNED.clear()


def _forget_after_fork() -> None:
    """A forked child takes a directory of its own; the parent keeps its lock and files."""
    global _GUARD
    _GUARD = threading.Lock()  # another thread may have held it at the fork
    for _, handle in _OWNED.values():
        handle.close()
    _OWNED.clear()


atexit.register(_release_all)
os.register_at_fork(after_in_child=_forget_after_fork)
