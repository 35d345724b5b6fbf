"""The Ray executor on its own: Ray not installed, a cluster that cannot be reached, and
``ray:local`` (started by this process, loopback only, nothing left behind).

(In a module of their own: the contract suite's Ray connection is closed by now, and a
process holds one Ray connection at a time.)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from tests.executors.conftest import free_port

from shipyard.config import Settings
from shipyard.errors import InvalidInput, StorageError
from shipyard.executors import TaskSpec, open_executor


def test_an_unreachable_ray_cluster_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, executor=f"ray://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="cannot reach the Ray cluster at ray://") as caught:
        open_executor(settings)
    assert caught.value.field == "executor"


def test_ray_missing_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import ray fails
    settings = Settings(home=tmp_path, executor="ray:local")
    with pytest.raises(InvalidInput, match=r"pip install 'shipyard\[ray\]'") as caught:
        open_executor(settings)
    assert caught.value.field == "executor"


def _listening_inodes() -> dict[int, str]:
    """Socket inode -> local address of every TCP socket listening on this machine."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[int(fields[9])] = fields[1].split(":")[0]
    return found


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _listening_addresses(pids: list[int]) -> set[str]:
    inodes = _listening_inodes()
    found = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        for link in links:
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                found.add(inodes[int(link[8:-1])])
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}


def test_ray_local_starts_on_loopback_only_and_leaves_nothing(tmp_path: Path) -> None:
    had_ray_home = (Path.home() / ".ray").exists()
    before = set(_descendants(os.getpid()))  # the session's own helpers (a job host...)
    executor = open_executor(Settings(home=tmp_path, executor="ray:local"))
    try:
        result = executor.submit(TaskSpec("tests.executors.tasks:square", {"x": 7})).result(120)
        assert result["value"] == 49
        started = [pid for pid in _descendants(os.getpid()) if pid not in before]
        addresses = _listening_addresses(started)
        assert addresses and addresses <= LOOPBACK, f"Ray listens beyond loopback: {addresses}"
    finally:
        executor.close()
    assert (Path.home() / ".ray").exists() == had_ray_home
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in started):
        assert time.monotonic() < deadline, "Ray's processes outlived the executor"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
