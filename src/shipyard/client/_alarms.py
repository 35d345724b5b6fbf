"""Alarms in the SDK: put, list, show, history, evaluate now, delete."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from shipyard.client._group import _Group
from shipyard.client._paging import Listing, fetch_listing
from shipyard.schemas.alarms import AlarmHistoryEntry, AlarmInfo

Action = BaseModel | Mapping[str, Any]


class Alarms(_Group):
    def put(
        self,
        name: str,
        source: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        period: float | str = "5m",
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        min_samples: int | None = None,
        treat_missing: str = "missing",
        actions: Sequence[Action] = (),
        enabled: bool = True,
    ) -> AlarmInfo:
        """Create or replace an alarm on ``endpoint:<name>`` or ``monitor:<name>``'s metric,
        e.g. ``put("errors", "endpoint:churn", "error_rate", ">", 0.05, period="1m",
        evaluation_periods=5, datapoints_to_alarm=3, actions=[RollbackAction(endpoint=
        "churn")])``."""
        documents = [a.model_dump() if isinstance(a, BaseModel) else dict(a) for a in actions]
        return AlarmInfo.model_validate(
            self._t.call(
                "alarms.put",
                name=name,
                source=source,
                metric=metric,
                comparison=comparison,
                threshold=threshold,
                period=period,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints_to_alarm,
                min_samples=min_samples,
                treat_missing=treat_missing,
                actions=documents,
                enabled=enabled,
            )
        )

    def list(
        self,
        *,
        state: str | None = None,
        source: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
    ) -> Listing[AlarmInfo]:
        """Alarms by name: every one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(
            self._t, "alarms.list", AlarmInfo, limit, page_token, state=state, source=source
        )

    def get(self, name: str) -> AlarmInfo:
        return AlarmInfo.model_validate(self._t.call("alarms.get", name=name))

    def history(self, name: str, *, limit: int = 100) -> builtins.list[AlarmHistoryEntry]:
        """State changes and action outcomes, newest first."""
        found = self._t.call("alarms.history", name=name, limit=limit)
        return [AlarmHistoryEntry.model_validate(item) for item in found]

    def evaluate(self, name: str) -> AlarmInfo:
        """Evaluate now (the scheduler does so at the end of every period)."""
        return AlarmInfo.model_validate(self._t.call("alarms.evaluate", name=name))

    def delete(self, name: str) -> AlarmInfo:
        return AlarmInfo.model_validate(self._t.call("alarms.delete", name=name))
