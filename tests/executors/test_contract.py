"""The executor contract, run against every executor: the local pool and a real Ray head.

Results and usage come back from another process; errors by type name and message;
tasks open the platform from the executor's settings; cancel ends a running task's
process; a task's memory limit holds (and is lifted for the next task); tasks run in
parallel.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.executors.conftest import RayHead

from shipyard.config import Settings
from shipyard.executors import Executor, TaskFailed, TaskSpec, open_executor

TASKS = "tests.executors.tasks"


@pytest.fixture(scope="module", params=["local", "ray"])
def executor(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Executor]:
    home = tmp_path_factory.mktemp(f"contract-{request.param}")
    if request.param == "local":
        settings = Settings(home=home)
    else:
        head: RayHead = request.getfixturevalue("ray_head")
        settings = Settings(home=home, executor=head.address, ray_token_file=head.token_file)
    found = open_executor(settings, max_workers=2)
    assert found.name == settings.executor
    yield found
    found.close()


def _pid_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def test_results_and_usage_come_back_from_other_processes(executor: Executor) -> None:
    handles = [executor.submit(TaskSpec(f"{TASKS}:square", {"x": x})) for x in range(4)]
    results = [handle.result(timeout=120) for handle in handles]
    assert [r["value"] for r in results] == [0, 1, 4, 9]
    assert all(r["pid"] != os.getpid() for r in results)
    burnt = executor.submit(TaskSpec(f"{TASKS}:burn", {"n": 3_000_000}))
    assert burnt.usage() is None
    assert burnt.result(timeout=120)["total"] == sum(i * i for i in range(3_000_000))
    usage = burnt.usage()
    assert usage is not None and usage.cpu_seconds > 0 and usage.peak_memory_mb > 0
    assert burnt.done()


def test_a_task_error_comes_back_by_type_and_message(executor: Executor) -> None:
    with pytest.raises(TaskFailed, match="bad value 3") as caught:
        executor.submit(TaskSpec(f"{TASKS}:fail", {"x": 3})).result(timeout=120)
    assert caught.value.kind == "ValueError"
    with pytest.raises(TaskFailed) as missing:
        executor.submit(TaskSpec(f"{TASKS}:no_such_task")).result(timeout=120)
    assert missing.value.kind == "AttributeError"


def test_tasks_open_the_platform_from_the_executors_settings(executor: Executor) -> None:
    result = executor.submit(TaskSpec(f"{TASKS}:home")).result(timeout=120)
    assert Path(result["home"]).name.startswith("contract-")


def test_cancel_ends_a_running_task(executor: Executor, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    handle = executor.submit(
        TaskSpec(f"{TASKS}:sleep_marked", {"marker": str(marker), "seconds": 300})
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    pid = int(marker.read_text())
    handle.cancel()
    with pytest.raises(TaskFailed) as caught:
        handle.result(timeout=60)
    assert caught.value.kind == "Cancelled"
    assert _pid_gone(pid, 60), "the cancelled task's process still runs"
    after = executor.submit(TaskSpec(f"{TASKS}:square", {"x": 5})).result(timeout=120)
    assert after["value"] == 25


def test_a_tasks_memory_limit_holds_and_is_lifted_after(executor: Executor) -> None:
    capped = executor.submit(TaskSpec(f"{TASKS}:allocate", {"mb": 2048}, memory_mb=64))
    with pytest.raises(TaskFailed, match="memory limit of 64 MiB") as caught:
        capped.result(timeout=120)
    assert caught.value.kind == "MemoryError"
    within = executor.submit(TaskSpec(f"{TASKS}:allocate", {"mb": 32}, memory_mb=256))
    assert within.result(timeout=120)["bytes"] == 32 * 2**20
    free = [executor.submit(TaskSpec(f"{TASKS}:allocate", {"mb": 320})) for _ in range(2)]
    assert [h.result(timeout=120)["bytes"] for h in free] == [320 * 2**20] * 2


def test_tasks_run_in_parallel(executor: Executor, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = executor.submit(
        TaskSpec(f"{TASKS}:meet", {"mine": str(a), "other": str(b), "seconds": 60})
    )
    second = executor.submit(
        TaskSpec(f"{TASKS}:meet", {"mine": str(b), "other": str(a), "seconds": 60})
    )
    one, two = first.result(timeout=120), second.result(timeout=120)
    assert one["met"] and two["met"]
    assert one["pid"] != two["pid"]
