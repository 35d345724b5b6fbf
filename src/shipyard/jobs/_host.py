"""A warm job host: job processes forked from a server that has already imported the heavy code.

A fresh ``python -m module`` pays for the interpreter, Shipyard, pyarrow and the model
libraries (LightGBM alone imports scikit-learn and SciPy) before it does any work: about two
seconds here, which is most of a one-million-row batch transform. The host is
multiprocessing's fork server with those modules preloaded; it starts with the first job of a
process (or on ``warm_up()``, which ``shipyard server`` calls) and every later job is a fork
of it, in its own session, with stdin, stdout and stderr set up as ``launch_worker`` did for
a spawned ``python -m``. The job's module then runs as ``__main__`` exactly as it would there.

Forking is safe here because the fork server runs no threads of its own; jobs still get a
clean process each, so a crash or a leak in one job never reaches the next.
"""

from __future__ import annotations

import io
import multiprocessing
import multiprocessing.process
import os
import runpy
import sys
import threading
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import ForkServerContext, ForkServerProcess, set_spawning_popen
from pathlib import Path
from typing import Any

PRELOAD = [
    "shipyard.jobs._worker_main",
    "shipyard.jobs._train_worker",
    "shipyard.jobs._code_worker",
    "shipyard.batch._runner",
    "shipyard.deploy._worker",
    "shipyard.jobs._automl_worker",
    "shipyard.automl._run",
    "shipyard.pipelines._runner",
    "shipyard.flavors",
    "lightgbm",
    "xgboost",
    "sklearn.ensemble",
    "onnxruntime",
    "skops.io",  # seconds: it lists every scikit-learn estimator, importing their modules
    "shipyard.jobs._mapped",  # last: configures the ORM mappers of every table imported
]

_lock = threading.Lock()
_context: ForkServerContext | None = None


def _host() -> ForkServerContext:
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            assert isinstance(context, ForkServerContext)
            context.set_forkserver_preload(PRELOAD)  # modules that fail to import are skipped
            _context = context
        return _context


def warm_up() -> None:
    """Start the host now, so the first job does not wait for its imports."""
    _host()
    forkserver.ensure_running()


def wait_until_warm(log_path: Path) -> None:
    """Start the host if needed and block until its imports are done (a no-op process forked
    from it ends): for work whose clock starts at submission, such as an AutoML budget."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    HostedProcess("shipyard.jobs._mapped", ["warm-up"], b"", log_path).wait()


class _PopenWithoutMain(popen_forkserver.Popen):
    """multiprocessing's fork-server launch, minus re-importing the launcher's ``__main__``.

    A job runs its own module as ``__main__``; the script that submitted it (a notebook, a
    user's script without a ``__main__`` guard) must never run again inside the job.
    Otherwise as CPython 3.11's ``popen_forkserver.Popen._launch``.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        _parent_w = os.dup(w)
        close = util.close_fds  # type: ignore[attr-defined]
        self.finalizer = util.Finalize(self, close, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _JobProcess(ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _PopenWithoutMain(process_obj)


class HostedProcess:
    """A job process forked by the host; ``pid`` and ``wait()`` like ``subprocess.Popen``."""

    def __init__(
        self,
        module: str,
        args: list[str],
        settings_json: bytes,
        log_path: Path,
    ) -> None:
        _host()
        job_id = args[0]
        self._process = _JobProcess(
            target=_run_module,
            args=(module, args, settings_json, str(log_path)),
            name=f"job-{job_id}",
        )
        self._process.start()
        # The job outlives this process (``--no-wait``): multiprocessing must not join it
        # when this interpreter exits, so it leaves the set of children it tracks.
        multiprocessing.process._children.discard(self._process)  # type: ignore[attr-defined]
        assert self._process.pid is not None
        self.pid: int = self._process.pid
        self._waiting = threading.Lock()
        self._code: int | None = None

    def wait(self) -> int:
        """Block until the job ends; its exit code (negative: killed by that signal).

        Safe from several threads: the fork server sends the exit code once, so one thread
        reads it and the others get the remembered value.
        """
        with self._waiting:
            if self._code is None:
                self._process.join()
                code = self._process.exitcode
                self._code = -1 if code is None else code
            return self._code


def _run_module(module: str, args: list[str], settings_json: bytes, log_path: str) -> None:
    """In the forked job: a new session, the log as stdout/stderr, the settings on stdin."""
    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    read, write = os.pipe()
    os.write(write, settings_json)  # a settings document is far below a pipe's buffer
    os.close(write)
    os.dup2(read, 0)
    os.close(read)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
