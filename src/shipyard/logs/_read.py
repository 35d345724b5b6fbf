"""Reading the JSON-lines logs back: filter by component, level, time and resource; follow."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.logs._setup import BACKUPS, COMPONENTS, log_file

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


@dataclass(frozen=True)
class LogFilter:
    """Which lines to show: at ``level`` or above, from ``since`` on, about ``resource``
    (its name, a name below it, or a ``*`` pattern; a job also by ``sy:<kind>-job/<id>``)."""

    level: str = "DEBUG"
    since: datetime | None = None
    resource: str | None = None

    def __post_init__(self) -> None:
        if self.level.upper() not in LEVELS:
            raise InvalidInput(f"must be one of {', '.join(LEVELS).lower()}", field="level")

    def matches(self, line: dict[str, Any]) -> bool:
        if LEVELS.get(str(line.get("level", "")).upper(), 0) < LEVELS[self.level.upper()]:
            return False
        if self.since is not None:
            try:
                when = datetime.fromisoformat(str(line.get("time", "")))
            except ValueError:
                return False
            if when < self.since:
                return False
        return self.resource is None or _about(str(line.get("resource", "")), self.resource)


def _about(found: str, wanted: str) -> bool:
    if not found:
        return False
    if found == wanted or found.startswith(wanted.rstrip("/") + "/"):
        return True
    if any(c in wanted for c in "*?[") and fnmatch.fnmatchcase(found, wanted):
        return True
    # a job is named sy:<kind>-job/<scope>/<id>, and also sy:<kind>-job/<id>
    kind, _, rest = found.partition("/")
    return "/" in rest and f"{kind}/{rest.rsplit('/', 1)[1]}" == wanted


def _files(settings: Settings, component: str) -> list[Path]:
    current = log_file(settings, component)
    rotated = [current.with_name(f"{current.name}.{n}") for n in range(BACKUPS, 0, -1)]
    return [p for p in (*rotated, current) if p.is_file()]


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return line if isinstance(line, dict) else None


def read_logs(
    settings: Settings, which: LogFilter, components: tuple[str, ...] = COMPONENTS
) -> list[dict[str, Any]]:
    """Every matching line of the components' files (rotated ones too), oldest first."""
    for component in components:
        if component not in COMPONENTS:
            raise InvalidInput(f"must be one of {', '.join(COMPONENTS)}", field="component")
    found = []
    for component in components:
        for path in _files(settings, component):
            with path.open("rb") as handle:
                for raw in handle:
                    line = _parse(raw)
                    if line is not None and which.matches(line):
                        found.append(line)
    found.sort(key=lambda line: str(line.get("time", "")))
    return found


def follow_logs(
    settings: Settings,
    which: LogFilter,
    components: tuple[str, ...] = COMPONENTS,
    *,
    poll_seconds: float = 0.25,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[dict[str, Any]]:
    """Matching lines appended to the components' files from now on, as they come (a file
    rotated away is reopened from its start)."""
    offsets = {c: _size(log_file(settings, c)) for c in components}
    while not stop():
        for component in components:
            path = log_file(settings, component)
            size = _size(path)
            if size < offsets[component]:
                offsets[component] = 0
            if size == offsets[component]:
                continue
            with path.open("rb") as handle:
                handle.seek(offsets[component])
                chunk = handle.read(size - offsets[component])
            complete = chunk.rfind(b"\n") + 1
            offsets[component] += complete
            for raw in chunk[:complete].splitlines():
                line = _parse(raw)
                if line is not None and which.matches(line):
                    yield line
        time.sleep(poll_seconds)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
