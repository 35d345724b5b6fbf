"""The Ray executor's own errors: Ray not installed, a cluster that cannot be reached.

(In a module of their own: the contract suite's Ray connection is closed by now, and a
process holds one Ray connection at a time.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tests.executors.conftest import free_port

from shipyard.config import Settings
from shipyard.errors import InvalidInput, StorageError
from shipyard.executors import open_executor


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
