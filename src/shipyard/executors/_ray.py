"""The Ray executor: tasks as Ray remote functions, on a local instance or a cluster.

``ray:local`` starts Ray in this process's session on 127.0.0.1 only (its own temporary
directory, no dashboard, the machine's cores) with a token of its own, written into that
directory: token authentication stays on and nothing is read from or written to ~/.ray.
``ray://HOST:PORT`` connects to a running cluster as a Ray client; the cluster's token is
the file the ``ray_token_file`` setting names, else where Ray itself looks (the
``RAY_AUTH_TOKEN`` variable, ~/.ray/auth_token).

A task runs ``run_outcome`` in a Ray worker process with ``num_cpus=cpus`` and
``memory=memory_mb`` (Ray schedules by it; ``run_outcome`` holds the task to it), never retried by
Ray (jobs own retries). Its outcome is a JSON-able document: task errors come back by
type name and message, never as pickled exceptions. The platform is opened in the worker
from the settings shipped with each task, once per worker process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, StorageError
from shipyard.executors._base import TaskFailed, TaskSpec, TaskUsage, bind_settings
from shipyard.executors._running import died_message, memory_message, run_outcome, unpack

if TYPE_CHECKING:
    from shipyard.config import Settings

MISSING_RAY = "the Ray executor needs Ray: pip install 'shipyard[ray]'"
CONNECT_RETRIES = 1  # a try waits 5 s for the client server


def _import_ray() -> Any:
    try:
        import ray
        import ray.util
    except ImportError:
        raise InvalidInput(MISSING_RAY, field="executor") from None
    return ray


_bound_settings: str | None = None


def _ray_task(
    settings_json: str, entry: str, payload: dict[str, Any], memory_mb: int | None
) -> dict[str, Any]:
    """In a Ray worker process: open the platform from these settings once, run the task."""
    global _bound_settings
    if settings_json != _bound_settings:
        from shipyard.config import Settings

        bind_settings(Settings.model_validate_json(settings_json))
        _bound_settings = settings_json
    return run_outcome(entry, payload, memory_mb)


class _Connection:
    """This process's one Ray connection (Ray allows one), shared by its executors."""

    def __init__(self, target: str, temp_dir: str | None, saved_env: dict[str, str | None]):
        self.target, self.temp_dir, self.saved_env = target, temp_dir, saved_env
        self.users = 0
        self.remote: Any = None


_lock = threading.Lock()
_connection: _Connection | None = None
_AUTH_VARIABLES = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")


def _set_env(values: dict[str, str]) -> dict[str, str | None]:
    """Set Ray's own variables for this process (Ray reads its token and mode from them)."""
    saved = {name: os.environ.get(name) for name in _AUTH_VARIABLES}
    os.environ.update(values)
    # Ray reads them once per process; these refresh its view (as ``ray start`` does).
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _start_local(ray: Any) -> _Connection:
    """A Ray instance of this process on 127.0.0.1, with its own directory and token."""
    temp_dir = tempfile.mkdtemp(prefix="shipyard-ray-")
    token = Path(temp_dir) / "auth_token"
    token.touch(mode=0o600)
    token.write_text(secrets.token_hex(32))
    saved = _set_env(
        {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(token),
            # Ray's single-machine mode: every server binds the loopback address only.
            "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        }
    )
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False  # read at import; set for this process too
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        ray.init(
            address="local",
            num_cpus=cores or 1,
            include_dashboard=False,
            _temp_dir=temp_dir,
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            logging_level="WARNING",
        )
    except Exception as error:
        with contextlib.suppress(Exception):
            ray.shutdown()
        _restore_env(saved)
        shutil.rmtree(temp_dir, ignore_errors=True)
        problem = str(error) or type(error).__name__
        message = f"could not start Ray on 127.0.0.1: {problem}"
        raise StorageError(message, field="executor") from None
    return _Connection("ray:local", temp_dir, saved)


_SERVER_START_ATTEMPTS = 3
# How Ray's client proxy says the server it starts for each client did not start (a busy
# machine; the next connect usually succeeds): the words depend on where the start failed
_SERVER_START_FAILURES = ("client server failed", "start_specific_server")


def _connect_client(ray: Any, address: str, token_file: Path | None) -> _Connection:
    """A Ray client connection to ``ray://HOST:PORT``."""
    saved: dict[str, str | None] = {}
    if token_file is not None:
        if not token_file.is_file():
            raise InvalidInput(f"{token_file} is not a file", field="ray_token_file")
        saved = _set_env({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token_file)})
    try:
        for attempt in range(_SERVER_START_ATTEMPTS):
            try:
                with warnings.catch_warnings():  # the error below says it, with the address
                    warnings.simplefilter("ignore")
                    ray.util.connect(
                        address.removeprefix("ray://"),
                        connection_retries=CONNECT_RETRIES,
                        ray_init_kwargs={"log_to_driver": False, "logging_level": "WARNING"},
                    )
                break
            except Exception as error:
                # the head starts a server per client; on a busy machine that start can fail
                # once and succeed at the next connect
                if (
                    not any(sign in str(error) for sign in _SERVER_START_FAILURES)
                    or attempt + 1 == _SERVER_START_ATTEMPTS
                ):
                    raise
                with contextlib.suppress(Exception):
                    ray.util.disconnect()
                time.sleep(1.0)
    except Exception as error:
        with contextlib.suppress(Exception):  # leave no half-made client behind
            ray.util.disconnect()
        _restore_env(saved)
        problem = " ".join(str(error).split())[:300] or type(error).__name__
        raise StorageError(
            f"cannot reach the Ray cluster at {address} ({problem}); check that its client "
            "server listens there and that its token is the one in ray_token_file",
            field="executor",
        ) from None
    return _Connection(address, None, saved)


def _acquire(settings: Settings) -> _Connection:
    global _connection
    ray = _import_ray()
    with _lock:
        if _connection is not None and _connection.target != settings.executor:
            raise InvalidInput(
                f"this process is connected to Ray at {_connection.target} already; one "
                "process uses one Ray cluster",
                field="executor",
            )
        if _connection is None:
            if settings.executor == "ray:local":
                _connection = _start_local(ray)
            else:
                _connection = _connect_client(ray, settings.executor, settings.ray_token_file)
            _connection.remote = ray.remote(max_retries=0)(_ray_task)
        _connection.users += 1
        return _connection


def _release(connection: _Connection) -> None:
    global _connection
    ray = _import_ray()
    with _lock:
        connection.users -= 1
        if connection.users > 0 or _connection is not connection:
            return
        _connection = None
        try:
            if connection.target == "ray:local":
                ray.shutdown()
            else:
                ray.util.disconnect()
        finally:
            _restore_env(connection.saved_env)
            if connection.temp_dir is not None:
                shutil.rmtree(connection.temp_dir, ignore_errors=True)


class _RayHandle:
    def __init__(self, ref: Any, memory_mb: int | None) -> None:
        self._ref, self._memory_mb = ref, memory_mb
        self._usage: TaskUsage | None = None
        self._cancelled = False

    def done(self) -> bool:
        ray = _import_ray()
        ready, _ = ray.wait([self._ref], timeout=0)
        return bool(ready)

    def usage(self) -> TaskUsage | None:
        return self._usage

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        ray = _import_ray()
        from ray import exceptions

        try:
            outcome = ray.get(self._ref, timeout=timeout)
        except exceptions.GetTimeoutError:
            raise TimeoutError(f"task still running after {timeout} s") from None
        except exceptions.OutOfMemoryError:
            limit = self._memory_mb
            message = memory_message(limit) if limit else "Ray ended the task: out of memory"
            raise TaskFailed(message, "MemoryError") from None
        except (exceptions.TaskCancelledError, exceptions.WorkerCrashedError):
            if self._cancelled:
                raise TaskFailed("the task was cancelled", "Cancelled") from None
            raise TaskFailed(died_message(self._memory_mb), "WorkerDied") from None
        except exceptions.RayError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise TaskFailed(first or type(error).__name__, type(error).__name__) from None
        result, self._usage = unpack(outcome)
        return result

    def cancel(self) -> None:
        if self._usage is not None:
            return
        ray = _import_ray()
        self._cancelled = True
        with contextlib.suppress(Exception):  # ended already, or the connection went with it
            ray.cancel(self._ref, force=True)


class RayExecutor:
    """Tasks on Ray: ``ray:local`` (started here) or ``ray://HOST:PORT`` (a cluster)."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.executor
        self._settings_json = settings.model_dump_json()
        self._connection = _acquire(settings)
        self._handles: list[_RayHandle] = []
        self._closed = False

    def submit(self, task: TaskSpec) -> _RayHandle:
        if self._closed:
            raise RuntimeError("the executor is closed")
        options: dict[str, Any] = {"num_cpus": task.cpus, "name": task.entry}
        if task.memory_mb is not None:
            options["memory"] = task.memory_mb * 2**20
        remote = self._connection.remote.options(**options)
        ref = remote.remote(self._settings_json, task.entry, task.payload, task.memory_mb)
        handle = _RayHandle(ref, task.memory_mb)
        self._handles = [h for h in self._handles if h.usage() is None and not h._cancelled]
        self._handles.append(handle)
        return handle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for handle in self._handles:
            if not handle.done():
                handle.cancel()
        _release(self._connection)
