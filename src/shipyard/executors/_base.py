"""The executor contract: submit a task, wait for its result, cancel it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.platform import Platform

TaskFunction = Callable[[dict[str, Any]], dict[str, Any]]


class TaskFailed(ShipyardError, RuntimeError):
    """A task raised, or its process died; ``kind`` is the error's type name."""

    def __init__(self, message: str, kind: str = "Error") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class TaskSpec:
    """One unit of work: ``entry`` is ``module:function``; ``cpus`` and ``memory_mb`` are
    what it asks of the executor (Ray schedules by them; the local pool runs one task per
    worker process)."""

    entry: str
    payload: dict[str, Any] = field(default_factory=dict)
    cpus: float = 1.0
    memory_mb: int | None = None


@dataclass(frozen=True)
class TaskUsage:
    """What a task used in its own process: CPU seconds and peak resident memory (MiB)."""

    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0


class TaskHandle(Protocol):
    """A submitted task."""

    def done(self) -> bool: ...

    def usage(self) -> TaskUsage | None:
        """What the task used, once it has returned a result (None before, or if it failed)."""
        ...

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        """The task's result; raises ``TaskFailed``, or ``TimeoutError`` after ``timeout``."""
        ...

    def cancel(self) -> None:
        """Stop the task, ending its process if it has started; a no-op once done."""
        ...


class Executor(Protocol):
    """Runs tasks; ``name`` is what the resource record and run tags say it was."""

    name: str

    def submit(self, task: TaskSpec) -> TaskHandle: ...

    def close(self) -> None:
        """Cancel what is still running and release the workers."""
        ...


_settings: Settings | None = None
_platform: Platform | None = None


def bind_settings(settings: Settings) -> None:
    """Set the settings a task process opens the platform from (once per worker process;
    a worker shared by installations opens the platform again when they change)."""
    global _settings, _platform
    if settings == _settings:
        return
    if _platform is not None:
        _platform.close()
        _platform = None
    _settings = settings


def task_platform() -> Platform:
    """The platform in a task's process, opened on first use from the executor's settings."""
    global _platform
    if _platform is None:
        from shipyard.platform import Platform

        if _settings is None:
            raise RuntimeError("task_platform() is only available inside an executor task")
        _platform = Platform.open(_settings, migrate=False)
    return _platform


def task_function(entry: str) -> TaskFunction:
    """The function ``module:function`` names (its module imported here)."""
    module, _, name = entry.partition(":")
    function: TaskFunction = getattr(importlib.import_module(module), name)
    return function


def run_task(entry: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Import ``module:function`` and call it with ``payload`` (in the task's process)."""
    return task_function(entry)(payload)
