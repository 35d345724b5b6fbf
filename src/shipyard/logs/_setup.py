"""Sending a process's log records to ``<home>/logs/<component>.jsonl`` as JSON lines.

Every server (``server``, ``serving``, ``scheduler``) and job process (``jobs``) calls
``configure_logging`` once at start; records of the ``shipyard`` loggers (and uvicorn's
errors) at ``settings.log_level`` and above go to the file, rotated by size, in addition
to what the process prints. Several processes may append to one component's file: each
line is one ``write`` under ``O_APPEND``; rotation is by the process that crosses the size.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from shipyard.config import Settings
from shipyard.logs._context import ContextFilter
from shipyard.logs._format import JsonFormatter

COMPONENTS = ("server", "serving", "jobs", "scheduler")
MAX_BYTES = 20 * 1024 * 1024
BACKUPS = 5
_LOGGERS = ("shipyard", "uvicorn.error")
FILE_ONLY = {"file_only": True}
"""``extra=FILE_ONLY``: write the record to the log file only, never to stderr."""


def logs_dir(settings: Settings) -> Path:
    return settings.home / "logs"


def log_file(settings: Settings, component: str) -> Path:
    if component not in COMPONENTS:
        raise ValueError(f"unknown log component {component!r}")
    return logs_dir(settings) / f"{component}.jsonl"


class _Handler(logging.handlers.RotatingFileHandler):
    """The handler ``configure_logging`` installs (found again to replace it)."""


class _Printed(logging.StreamHandler):  # type: ignore[type-arg]
    """Warnings and errors on stderr as before: Python prints them through its last-resort
    handler only while no handler is installed, and the file handler is one. Lines a job
    printed itself, and lines new with the log files (operations, requests), are marked
    ``FILE_ONLY`` and not printed."""


def configure_logging(settings: Settings, component: str, **fixed: str) -> logging.Handler:
    """Write this process's ``shipyard`` records to the component's JSON-lines file.

    ``fixed`` fields (a job process's ``job_id`` and ``resource``, a serving worker's
    endpoint ``resource``) go on every line. Calling it again replaces the handler.
    """
    path = log_file(settings, component)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _Handler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter(component, fixed))
    level = logging.getLevelName(settings.log_level)
    handler.setLevel(level)
    printed = _Printed(sys.stderr)
    printed.setLevel(logging.WARNING)
    printed.addFilter(lambda record: not getattr(record, "file_only", False))
    stop_logging()
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if not logging.getLogger().handlers and name == "shipyard":
            logger.addHandler(printed)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
    return handler


def stop_logging() -> None:
    """Remove the handler ``configure_logging`` installed (tests, embedding)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _Handler | _Printed)]:
            logger.removeHandler(old)
            if isinstance(old, _Handler):
                old.close()
