"""Task functions the executor contract tests submit (importable by worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from shipyard.executors import task_platform


def square(payload: dict[str, Any]) -> dict[str, Any]:
    return {"value": payload["x"] ** 2, "pid": os.getpid()}


def fail(payload: dict[str, Any]) -> dict[str, Any]:
    raise ValueError(f"bad value {payload['x']}")


def sleep(payload: dict[str, Any]) -> dict[str, Any]:
    time.sleep(payload["seconds"])
    return {}


def home(payload: dict[str, Any]) -> dict[str, Any]:
    return {"home": str(task_platform().settings.home)}


def wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def sleep_marked(payload: dict[str, Any]) -> dict[str, Any]:
    """Say where it runs (its pid, in the marker file), then sleep."""
    marker = Path(payload["marker"])
    marker.with_suffix(".tmp").write_text(str(os.getpid()))
    marker.with_suffix(".tmp").rename(marker)
    time.sleep(payload["seconds"])
    return {}


def meet(payload: dict[str, Any]) -> dict[str, Any]:
    """Leave a mark, then wait for the other task's: both must run at the same time."""
    Path(payload["mine"]).write_text(str(os.getpid()))
    return {"met": wait_for(Path(payload["other"]), payload["seconds"]), "pid": os.getpid()}


def allocate(payload: dict[str, Any]) -> dict[str, Any]:
    """Hold ``mb`` MiB of resident memory, 16 MiB at a time."""
    blocks = [b"x" * 2**24 for _ in range(payload["mb"] // 16)]
    return {"bytes": sum(len(block) for block in blocks)}


def burn(payload: dict[str, Any]) -> dict[str, Any]:
    total = 0
    for i in range(payload["n"]):
        total += i * i
    return {"total": total}
