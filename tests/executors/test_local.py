"""The local executor: tasks run in reused worker processes, errors come back by message."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.executors import LocalExecutor, TaskFailed, TaskSpec, open_executor, parse_executor


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory) -> LocalExecutor:
    settings = Settings(home=tmp_path_factory.mktemp("executor-home"))
    found = open_executor(settings, max_workers=2)
    assert isinstance(found, LocalExecutor)
    yield found
    found.close()


def test_results_come_back_from_other_processes(executor: LocalExecutor) -> None:
    handles = [
        executor.submit(TaskSpec("tests.executors.tasks:square", {"x": x})) for x in range(6)
    ]
    results = [handle.result(timeout=60) for handle in handles]
    assert [r["value"] for r in results] == [x * x for x in range(6)]
    assert all(r["pid"] != os.getpid() for r in results)
    assert len({r["pid"] for r in results}) <= 2  # workers are reused


def test_a_task_error_names_its_type_and_message(executor: LocalExecutor) -> None:
    with pytest.raises(TaskFailed, match="bad value 3") as caught:
        executor.submit(TaskSpec("tests.executors.tasks:fail", {"x": 3})).result(timeout=60)
    assert caught.value.kind == "ValueError"


def test_tasks_open_the_platform_from_the_executors_settings(
    executor: LocalExecutor, tmp_path: Path
) -> None:
    result = executor.submit(TaskSpec("tests.executors.tasks:home")).result(timeout=60)
    assert result["home"].endswith("executor-home0")


def test_cancel_ends_a_running_task_and_the_pool_goes_on(executor: LocalExecutor) -> None:
    handle = executor.submit(TaskSpec("tests.executors.tasks:sleep", {"seconds": 60}))
    deadline = time.monotonic() + 30
    while not executor._pool._processes and time.monotonic() < deadline:  # started
        time.sleep(0.05)
    time.sleep(0.5)
    started = time.monotonic()
    handle.cancel()
    with pytest.raises((TaskFailed, Exception)):
        handle.result(timeout=30)
    assert time.monotonic() - started < 30
    assert (
        executor.submit(TaskSpec("tests.executors.tasks:square", {"x": 4})).result(60)["value"]
        == 16
    )


def test_unknown_executors_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="local, ray:local or ray://HOST:PORT"):
        parse_executor("kubernetes")
    with pytest.raises(ValueError, match="executor"):
        Settings(executor="ray://no-port")
