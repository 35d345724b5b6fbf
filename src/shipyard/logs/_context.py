"""What a log line is about, carried by the code that is running: request, job, resource.

Set with ``log_context(request_id=..., resource=...)`` around a piece of work; every
record logged inside (in this thread, or a task or worker thread started from it with a
copy of the context) carries the fields.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

FIELDS = ("request_id", "job_id", "resource", "principal")

_CURRENT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "shipyard_log_context", default=None
)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (``request_id``, ``job_id``, ``resource``, ``principal``) to every
    record logged inside; unset ones keep what an outer context gave."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log context fields: {sorted(unknown)}")
    given = {k: v for k, v in fields.items() if v}
    token = _CURRENT.set((_CURRENT.get() or {}) | given)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> dict[str, str]:
    return dict(_CURRENT.get() or {})


class ContextFilter(logging.Filter):
    """Puts the context's fields (and a process's fixed ones, e.g. its job) on each record."""

    def __init__(self, component: str, fixed: dict[str, str] | None = None) -> None:
        super().__init__()
        self.component = component
        self.fixed = dict(fixed or {})

    def filter(self, record: logging.LogRecord) -> bool:
        record.component = self.component
        for name, value in (self.fixed | (_CURRENT.get() or {})).items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True
