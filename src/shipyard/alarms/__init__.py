"""Alarms: thresholds on monitor and endpoint metrics with OK / ALARM / INSUFFICIENT_DATA,
M-of-N datapoints and a minimum sample size, and actions on a change of state."""

from shipyard.alarms._metrics import ENDPOINT_METRICS, MetricSource
from shipyard.alarms._rules import Datapoint, Rule, Verdict, classify
from shipyard.alarms._service import (
    alarm_history,
    delete_alarm,
    evaluate_alarm,
    get_alarm,
    list_alarms,
    put_alarm,
)
from shipyard.schemas.alarms import (
    AlarmAction,
    AlarmHistoryEntry,
    AlarmInfo,
    PipelineAction,
    RollbackAction,
    WebhookAction,
)

__all__ = [
    "ENDPOINT_METRICS",
    "AlarmAction",
    "AlarmHistoryEntry",
    "AlarmInfo",
    "Datapoint",
    "MetricSource",
    "PipelineAction",
    "RollbackAction",
    "Rule",
    "Verdict",
    "WebhookAction",
    "alarm_history",
    "classify",
    "delete_alarm",
    "evaluate_alarm",
    "get_alarm",
    "list_alarms",
    "put_alarm",
]
