"""Monitors in the SDK: create one on an endpoint, run a window, read runs and reports."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from shipyard.client._group import _Group
from shipyard.client._paging import Listing, fetch_listing
from shipyard.schemas.monitoring import MonitorInfo, MonitorRunInfo


class Monitors(_Group):
    def create(
        self,
        name: str,
        *,
        endpoint: str,
        schedule: str = "1h",
        kinds: Sequence[str] | None = None,
        baseline: str | None = None,
    ) -> MonitorInfo:
        """Check ``endpoint``'s captured traffic each ``schedule`` window (``"1h"``) against
        ``baseline`` (``"train@3"``; default: each served version's training data)."""
        return MonitorInfo.model_validate(
            self._t.call(
                "monitoring.create",
                name=name,
                endpoint=endpoint,
                schedule=schedule,
                kinds=builtins.list(kinds) if kinds is not None else None,
                baseline=baseline,
            )
        )

    def get(self, name: str) -> MonitorInfo:
        return MonitorInfo.model_validate(self._t.call("monitoring.get", name=name))

    def list(
        self,
        endpoint: str | None = None,
        *,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> Listing[MonitorInfo]:
        """Monitors by name (of ``endpoint``): every one, or with ``limit``/``page_token``
        one page."""
        return fetch_listing(
            self._t, "monitoring.list", MonitorInfo, limit, page_token, endpoint=endpoint
        )

    def delete(self, name: str) -> MonitorInfo:
        return MonitorInfo.model_validate(self._t.call("monitoring.delete", name=name))

    def run(
        self,
        name: str,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
    ) -> MonitorRunInfo:
        """Run one window now (default: the schedule's last whole window)."""
        return MonitorRunInfo.model_validate(
            self._t.call(
                "monitoring.run", name=name, window_start=window_start, window_end=window_end
            )
        )

    def history(self, name: str, *, limit: int = 50) -> builtins.list[MonitorRunInfo]:
        found = self._t.call("monitoring.history", name=name, limit=limit)
        return [MonitorRunInfo.model_validate(r) for r in found]

    def result(self, name: str, *, run: int | None = None) -> dict[str, Any]:
        """A run's JSON result (default: the latest successful run)."""
        found: dict[str, Any] = self._t.call("monitoring.result", name=name, run=run)
        return found

    def report(
        self, name: str, out: str | os.PathLike[str] | None = None, *, run: int | None = None
    ) -> bytes:
        """A run's self-contained HTML report; also written to ``out`` when given."""
        data: bytes = self._t.call("monitoring.report", name=name, run=run)
        if out is not None:
            Path(out).write_bytes(data)
        return data

    def metrics(self, name: str) -> str:
        """The latest values as Prometheus text."""
        data: bytes = self._t.call("monitoring.metrics", name=name)
        return data.decode()
