"""Where job work runs: a local process pool (the default) or a Ray cluster, by configuration.

Training jobs, tuning trials and batch transform chunks hand their work to an ``Executor``
as tasks: a function named ``module:function`` that takes a JSON-able payload and returns
a JSON-able result, run in a process that opens the platform itself from the settings the
executor was given (``task_platform``), with ``cpus`` and ``memory_mb`` it is held to, and
what it used (``TaskUsage``) reported back. The same tasks give the same results on every
executor; the contract suite in ``tests/executors`` runs each one.
"""

from shipyard.executors._base import (
    Executor,
    TaskFailed,
    TaskHandle,
    TaskSpec,
    TaskUsage,
    run_task,
    task_platform,
)
from shipyard.executors._local import LocalExecutor
from shipyard.executors._open import open_executor, parse_executor

__all__ = [
    "Executor",
    "LocalExecutor",
    "TaskFailed",
    "TaskHandle",
    "TaskSpec",
    "TaskUsage",
    "open_executor",
    "parse_executor",
    "run_task",
    "task_platform",
]
