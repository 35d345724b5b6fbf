"""Choosing the executor from settings: ``local`` (default), ``ray:local`` or ``ray://HOST:PORT``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput
from shipyard.executors._local import LocalExecutor

if TYPE_CHECKING:
    from shipyard.config import Settings
    from shipyard.executors._base import Executor

_RAY_ADDRESS = re.compile(r"ray://[A-Za-z0-9.\-\[\]:]+:\d{1,5}")


def parse_executor(value: str) -> str:
    """Check an ``executor`` setting; the message names what is accepted."""
    if value in ("local", "ray:local") or _RAY_ADDRESS.fullmatch(value):
        return value
    raise InvalidInput(
        f"{value!r} is not an executor: use local, ray:local or ray://HOST:PORT", field="executor"
    )


def open_executor(settings: Settings, max_workers: int = 1) -> Executor:
    """The executor the settings name, running up to ``max_workers`` tasks at once on the
    local pool (a Ray cluster runs as many as its resources allow).

    Raises InvalidInput (field ``executor``) when Ray is chosen but not installed, and
    StorageError (field ``executor``) when the Ray cluster cannot be reached."""
    kind = parse_executor(settings.executor)
    if kind == "local":
        return LocalExecutor(settings, max_workers)
    from shipyard.executors._ray import RayExecutor  # Ray loads only when it is chosen

    return RayExecutor(settings)
