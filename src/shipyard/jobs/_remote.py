"""A job's work on a Ray executor, with the job process as its coordinator.

With ``executor: ray:local`` or ``ray://...`` the job process keeps what it owns (status,
run, log, the success transaction) and hands the heavy work (a training fit, batch
chunks) to the executor as tasks, each with the job's ``cpus`` and ``memory_mb``. Its
outstanding tasks are cancelled whenever the job is stopped: cancel (SIGTERM from the
server, taken by a thread of its own so a blocked main thread cannot delay it), its
max_runtime watchdog and its memory sampler. What the tasks used is added to the job's
resource record. With the default ``local`` executor none of this is used: the work runs
in the job process as it always has, with no extra hop.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, StorageError
from shipyard.executors import Executor, TaskFailed, TaskHandle, TaskSpec, open_executor
from shipyard.jobs._attempt import log

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.schemas.jobs import JobLimits

_WAIT_SECONDS = 1.0
_open: list[RemoteWork] = []


def cancel_outstanding() -> None:
    """Cancel every task this job process has running on an executor (the job is ending)."""
    for work in list(_open):
        work.cancel_all()


class RemoteWork:
    """The job's executor (opened with its first task: work that stays in the job process,
    such as own-code training, never connects) and its tasks in flight, with what finished
    ones used. ``on_open`` runs once the executor is open (the sampler re-takes its memory
    baseline: the executor's client is not the job's work)."""

    def __init__(
        self, settings: Settings, limits: JobLimits, on_open: Callable[[], None] | None = None
    ) -> None:
        self.settings, self.limits, self.on_open = settings, limits, on_open
        self.name = settings.executor
        self.executor: Executor | None = None
        self.cpu_seconds = 0.0
        self.peak_memory_mb = 0.0
        self.tasks = 0
        self._lock = threading.Lock()
        self._running: set[TaskHandle] = set()
        _open.append(self)

    def _executor(self) -> Executor:
        if self.executor is None:
            self.executor = open_executor(self.settings)
            log(f"connected to {self.name} for this job's tasks")
            if self.on_open is not None:
                self.on_open()
        return self.executor

    def submit(self, entry: str, payload: dict[str, Any], cpus: float | None = None) -> TaskHandle:
        """Start ``entry(payload)`` with the job's cpus and memory_mb."""
        cores = cpus or float(self.limits.cpus or 1)
        spec = TaskSpec(entry, payload, cpus=cores, memory_mb=self.limits.memory_mb)
        handle = self._executor().submit(spec)
        with self._lock:
            self._running.add(handle)
            self.tasks += 1
        return handle

    def wait(self, handle: TaskHandle) -> dict[str, Any]:
        """The task's result, its usage counted; a failed task raises what the job should
        (StorageError stays retryable, the rest fail the job with the task's message)."""
        try:
            while True:
                try:
                    result = handle.result(timeout=_WAIT_SECONDS)
                    break
                except TimeoutError:
                    continue
        except TaskFailed as error:
            if error.kind == "StorageError":
                raise StorageError(str(error)) from None
            if error.kind == "InvalidInput":
                raise InvalidInput(str(error)) from None
            raise
        finally:
            with self._lock:
                self._running.discard(handle)
        usage = handle.usage()
        if usage is not None:
            with self._lock:
                self.cpu_seconds += usage.cpu_seconds
                self.peak_memory_mb = max(self.peak_memory_mb, usage.peak_memory_mb)
        return result

    def run(self, entry: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.wait(self.submit(entry, payload))

    def cancel_all(self) -> None:
        with self._lock:
            running = list(self._running)
        for handle in running:
            handle.cancel()
        if running:
            log(f"cancelled {len(running)} task(s) on {self.name}")

    def close(self) -> None:
        if self in _open:
            _open.remove(self)
        if self.executor is not None:
            self.executor.close()


def open_remote(
    settings: Settings, limits: JobLimits, on_open: Callable[[], None] | None = None
) -> RemoteWork | None:
    """The job's executor when it is not the local default; None for in-process work."""
    if settings.executor == "local":
        return None
    return RemoteWork(settings, limits, on_open)


def take_sigterm(on_term: Callable[[], None]) -> None:
    """Take SIGTERM on a thread of its own: ``on_term()``, then end the process.

    Called in the main thread before any other thread starts, so every thread inherits
    SIGTERM blocked and only this one receives it, at once, whatever the others are doing.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def wait() -> None:
        signal.sigwait({signal.SIGTERM})
        try:
            on_term()
        finally:
            os._exit(128 + signal.SIGTERM)

    threading.Thread(target=wait, name="sigterm", daemon=True).start()
