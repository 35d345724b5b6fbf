"""Task functions the executor contract tests submit (importable by worker processes)."""

from __future__ import annotations

import os
import time
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
