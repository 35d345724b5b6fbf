"""Running one task in an executor's worker process: its limits, its usage, its outcome.

Every executor's worker calls ``run_outcome``; what comes back is a JSON-able document,
``{"result": ..., "usage": ...}`` or ``{"error": {"kind": ..., "message": ...}}``, so an
exception raised by task code is never pickled back to the process that submitted it.

``memory_mb`` limits how much resident memory the task may add to its worker process (a
worker runs one task at a time). A thread watches it: past the limit it raises
``MemoryError`` in the task, and ends the process if the task is stuck in native code and
does not stop within a grace (the handle then reports the worker died, naming the limit).
An address-space cap is not used: a fresh worker maps the task's libraries (and their
threads' arenas) on first import, far more address space than memory they touch.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from shipyard.executors._base import TaskFailed, TaskUsage, task_function


def memory_message(memory_mb: int) -> str:
    return f"task exceeded its memory limit of {memory_mb} MiB"


def died_message(memory_mb: int | None) -> str:
    """What a task whose worker process died is reported as."""
    if memory_mb is None:
        return "the task's worker process died"
    return (
        f"the task's worker process died (it may have exceeded its memory limit of {memory_mb} MiB)"
    )


def _status_mib(key: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> bool:
    """Restart this process's peak resident memory (VmHWM) from now; False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


_PAGE = os.sysconf("SC_PAGE_SIZE")
WATCH_SECONDS = 0.02
KILL_GRACE_SECONDS = 2.0


def _resident_mib() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class _MemoryWatch:
    """Holds the calling thread's task to ``memory_mb`` MiB of resident memory growth."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb, self.baseline = memory_mb, _resident_mib()
        self.target = threading.get_ident()
        self.exceeded = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="task-memory", daemon=True)

    def __enter__(self) -> _MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(WATCH_SECONDS):
            if _resident_mib() - self.baseline > self.memory_mb:
                break
        else:
            return
        self.exceeded = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self.target), ctypes.py_object(MemoryError)
        )
        if not self._done.wait(KILL_GRACE_SECONDS):  # stuck in native code: end the worker
            os.kill(os.getpid(), signal.SIGKILL)


def run_outcome(entry: str, payload: dict[str, Any], memory_mb: int | None) -> dict[str, Any]:
    """Run ``entry(payload)`` here under ``memory_mb``: its result and usage, or its error."""
    peak_reset = _reset_peak()
    started = time.process_time()
    watch: _MemoryWatch | None = None
    try:
        function = task_function(entry)  # its module's imports are not the task's memory
        watch = _MemoryWatch(memory_mb) if memory_mb is not None else None
        if watch is None:
            result = function(payload)
        else:
            with watch:
                result = function(payload)
    except Exception as error:  # MemoryError included; task code may have wrapped it
        if isinstance(error, MemoryError) or (watch is not None and watch.exceeded):
            message = memory_message(memory_mb) if memory_mb is not None else "out of memory"
            return {"error": {"kind": "MemoryError", "message": message}}
        kind = error.kind if isinstance(error, TaskFailed) else type(error).__name__
        return {"error": {"kind": kind, "message": str(error)}}
    usage = TaskUsage(
        cpu_seconds=round(time.process_time() - started, 3),
        peak_memory_mb=round(_status_mib("VmHWM"), 1) if peak_reset else 0.0,
    )
    return {"result": result, "usage": {"cpu": usage.cpu_seconds, "peak": usage.peak_memory_mb}}


def unpack(outcome: dict[str, Any]) -> tuple[dict[str, Any], TaskUsage]:
    """The result and usage of an outcome document; ``TaskFailed`` for an error."""
    if "error" in outcome:
        raise TaskFailed(outcome["error"]["message"], outcome["error"]["kind"])
    usage = outcome["usage"]
    return outcome["result"], TaskUsage(cpu_seconds=usage["cpu"], peak_memory_mb=usage["peak"])
