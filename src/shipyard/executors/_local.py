"""The default executor: a pool of worker processes on this machine.

Workers are started once (``spawn``, so nothing of the parent's threads or open
connections is inherited) and reused, so a task costs a pickle of its payload each way,
not a process start. Each worker's native thread pools (BLAS, OpenMP) get its share of the
machine's cores, so workers side by side do not oversubscribe them (Ray does the same for
its tasks). Cancelling a running task ends the pool's worker processes (a task
running beside it fails as its worker died); the pool is then rebuilt for the tasks that
follow.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from shipyard.executors._base import TaskFailed, TaskSpec, TaskUsage, bind_settings
from shipyard.executors._running import died_message, run_outcome, unpack

if TYPE_CHECKING:
    from shipyard.config import Settings


# Native thread pools (BLAS, OpenMP) read these once, when their library loads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _initialize(settings_json: str, threads: int) -> None:
    from shipyard.config import Settings

    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    bind_settings(Settings.model_validate_json(settings_json))


class _LocalHandle:
    def __init__(
        self, executor: LocalExecutor, future: Future[dict[str, Any]], memory_mb: int | None
    ) -> None:
        self._executor, self._future, self._memory_mb = executor, future, memory_mb
        self._usage: TaskUsage | None = None
        self._cancelled = False

    def done(self) -> bool:
        return self._future.done()

    def usage(self) -> TaskUsage | None:
        return self._usage

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        try:
            outcome = self._future.result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"task still running after {timeout} s") from None
        except CancelledError:
            raise TaskFailed("the task was cancelled", "Cancelled") from None
        except BrokenProcessPool:
            if self._cancelled:
                raise TaskFailed("the task was cancelled", "Cancelled") from None
            raise TaskFailed(died_message(self._memory_mb), "WorkerDied") from None
        result, self._usage = unpack(outcome)
        return result

    def cancel(self) -> None:
        self._cancelled = not self._future.done()
        if not self._future.cancel() and not self._future.done():
            self._executor._restart()


class LocalExecutor:
    """Up to ``max_workers`` tasks at a time, each in a worker process of this machine."""

    name = "local"

    def __init__(self, settings: Settings, max_workers: int = 1) -> None:
        self._settings_json = settings.model_dump_json()
        self._max_workers = max_workers
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._threads = max(1, (cores or 1) // max_workers)
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_initialize,
            initargs=(self._settings_json, self._threads),
        )

    def submit(self, task: TaskSpec) -> _LocalHandle:
        arguments = (task.entry, task.payload, task.memory_mb)
        with self._lock:
            try:
                future = self._pool.submit(run_outcome, *arguments)
            except BrokenProcessPool:
                self._pool = self._new_pool()
                future = self._pool.submit(run_outcome, *arguments)
        return _LocalHandle(self, future, task.memory_mb)

    def _restart(self) -> None:
        """End every worker (the running tasks fail as cancelled) and start a fresh pool."""
        with self._lock:
            old = self._pool
            for process in list(getattr(old, "_processes", {}).values()):
                process.kill()
            old.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def close(self) -> None:
        with self._lock:
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
