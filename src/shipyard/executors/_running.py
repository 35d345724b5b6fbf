"""Running one task in an executor's worker process: its limits, its usage, its outcome.

Every executor's worker calls ``run_outcome``; what comes back is a JSON-able document,
``{"result": ..., "usage": ...}`` or ``{"error": {"kind": ..., "message": ...}}``, so an
exception raised by task code is never pickled back to the process that submitted it.
``memory_mb`` caps the address space the task may add (the worker's own is left as is),
so an allocation past it raises ``MemoryError`` in the task; the cap is lifted afterwards,
as the worker process runs the next task.
"""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shipyard.executors._base import TaskFailed, TaskUsage, run_task

# Thread stacks and allocator arenas reserve address space they rarely touch.
_ADDRESS_SLACK_MIB = 256


def memory_message(memory_mb: int) -> str:
    return f"task exceeded its memory limit of {memory_mb} MiB"


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


@contextlib.contextmanager
def _memory_cap(memory_mb: int | None) -> Iterator[None]:
    if memory_mb is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = int((_status_mib("VmSize") + memory_mb + _ADDRESS_SLACK_MIB) * 2**20)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_outcome(entry: str, payload: dict[str, Any], memory_mb: int | None) -> dict[str, Any]:
    """Run ``entry(payload)`` here under ``memory_mb``: its result and usage, or its error."""
    peak_reset = _reset_peak()
    started = time.process_time()
    try:
        with _memory_cap(memory_mb):
            result = run_task(entry, payload)
    except MemoryError:
        message = memory_message(memory_mb) if memory_mb is not None else "out of memory"
        return {"error": {"kind": "MemoryError", "message": message}}
    except TaskFailed as error:
        return {"error": {"kind": error.kind, "message": str(error)}}
    except Exception as error:
        return {"error": {"kind": type(error).__name__, "message": str(error)}}
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
