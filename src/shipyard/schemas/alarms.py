"""Alarm wire types: the actions an alarm takes, the alarm as shown, and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from shipyard.schemas._base import WireModel

On = list[Literal["ALARM", "OK", "INSUFFICIENT_DATA"]]

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


def _on_alarm() -> On:
    return ["ALARM"]


class WebhookAction(WireModel):
    """POST the transition as JSON to ``url``, signed with HMAC-SHA256 under ``secret``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["webhook"] = "webhook"
    url: str = Field(max_length=2000)
    secret: str = Field(default="", max_length=500, repr=False)
    """The signing secret; stored sealed, never shown or logged."""
    on: On = Field(default_factory=_on_alarm)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)


class RollbackAction(WireModel):
    """Roll back the running deployment of ``endpoint`` (as the alarm's creator)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["rollback"] = "rollback"
    endpoint: str = Field(max_length=100)
    on: On = Field(default_factory=_on_alarm)


class PipelineAction(WireModel):
    """Start a run of ``pipeline`` with ``parameters`` (as the alarm's creator)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["pipeline"] = "pipeline"
    pipeline: str = Field(max_length=100)
    parameters: dict[str, Any] = Field(default_factory=dict)
    on: On = Field(default_factory=_on_alarm)


AlarmAction = Annotated[
    WebhookAction | RollbackAction | PipelineAction, Field(discriminator="kind")
]


class AlarmInfo(WireModel):
    """An alarm: its rule, actions (webhook secrets left out), and current state."""

    name: str
    resource: str
    source: str
    metric: str
    comparison: str
    threshold: float
    period_seconds: float
    evaluation_periods: int
    datapoints_to_alarm: int
    min_samples: int
    treat_missing: str
    actions: list[dict[str, Any]]
    enabled: bool
    state: State
    state_reason: str
    state_updated_at: datetime
    created_by: str
    created_at: datetime


class AlarmHistoryEntry(WireModel):
    """A state change, or an action's outcome, at a time."""

    time: datetime
    kind: str
    old_state: str | None = None
    new_state: str | None = None
    reason: str
    detail: dict[str, Any] = Field(default_factory=dict)
