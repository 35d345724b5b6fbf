"""When API keys were last used, kept off the request path.

A request notes its key's use in memory; only the first use of a key in each minute is
queued, and the queue is written in one transaction by whoever owns the recorder (the REST
app after answering, the data plane's key-cache thread), never inside a request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t

_log = logging.getLogger("shipyard.security")
_REMEMBERED = 100_000


UseWriter = Callable[[Mapping[str, datetime]], None]
"""Stores each key's ``last_used_at`` (a serving worker's goes through its supervisor)."""


def write_key_use(platform: Platform, used: Mapping[str, datetime]) -> None:
    """Set ``last_used_at`` of each key in ``used``, in one transaction."""
    with platform.db.session() as session:
        for key_id, at in used.items():
            session.execute(
                sa.update(t.ApiKey).where(t.ApiKey.key_id == key_id).values(last_used_at=at)
            )


class KeyUse:
    """Notes key uses; ``flush`` writes each key's ``last_used_at`` at most once a minute."""

    def __init__(self, target: Platform | UseWriter, every_seconds: float = 60.0) -> None:
        self._write: UseWriter = (
            (lambda used: write_key_use(target, used)) if isinstance(target, Platform) else target
        )
        self._every = every_seconds
        self._noted: dict[str, float] = {}
        self._pending: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def note(self, key_id: str) -> bool:
        """Remember a use of ``key_id``; True when it is queued (its first this minute)."""
        now = time.monotonic()
        last = self._noted.get(key_id)
        if last is not None and now - last < self._every:
            return False
        with self._lock:
            if len(self._noted) >= _REMEMBERED:
                self._noted.clear()
            self._noted[key_id] = now
            self._pending[key_id] = utcnow()
        return True

    @property
    def pending(self) -> bool:
        """Whether a use waits to be written."""
        return bool(self._pending)

    def flush(self) -> None:
        """Write the queued times in one transaction (a failure is logged, never raised)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            self._write(pending)
        except Exception as error:
            _log.warning("could not record API key use: %s", type(error).__name__)
