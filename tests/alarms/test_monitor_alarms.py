"""Alarms on a monitor's metrics, read through ``shipyard.monitoring.metric_points``.

The monitors package is built beside this one; until it is merged the test stands in a
module with the agreed ``metric_points`` signature, reading points the test sets.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from tests.alarms.alarmkit import at, period_start, sdk

from shipyard.alarms._evaluate import evaluate
from shipyard.client import Client
from shipyard.errors import InvalidInput
from shipyard.platform import Platform

__all__ = ["sdk"]


@dataclass(frozen=True)
class MetricPoint:
    time: datetime
    value: float
    samples: int


@pytest.fixture
def points(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], list[MetricPoint]]:
    stored: dict[tuple[str, str], list[MetricPoint]] = {}
    asked: list[tuple[str, str, datetime | None]] = []

    def metric_points(
        session: object, monitor: str, metric: str, since: datetime | None
    ) -> list[MetricPoint]:
        asked.append((monitor, metric, since))
        return [p for p in stored.get((monitor, metric), []) if since is None or p.time > since]

    module = types.ModuleType("shipyard.monitoring")
    module.metric_points = metric_points  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shipyard.monitoring", module)
    return stored


def test_drift_share_alarm_on_m_of_n_monitor_windows(
    sdk: Client, platform: Platform, points: dict[tuple[str, str], list[MetricPoint]]
) -> None:
    sdk.alarms.put(
        "drift", "monitor:churn", "drift_share", ">=", 0.3, period="1h",
        evaluation_periods=3, datapoints_to_alarm=2, min_samples=100,
    )  # fmt: skip
    b = at(period_start(3600, back=5))
    hour = timedelta(hours=1)
    points[("churn", "drift_share")] = [
        MetricPoint(b + hour, 0.5, 1000),
        MetricPoint(b + 2 * hour, 0.1, 1000),
        MetricPoint(b + 3 * hour, 0.9, 20),  # a window of 20 rows: too few to judge
    ]
    assert evaluate(platform, "drift", b + 3 * hour) == "OK"
    points[("churn", "drift_share")].append(MetricPoint(b + 4 * hour, 0.4, 5000))
    assert evaluate(platform, "drift", b + 4 * hour) == "OK"  # 0.1, missing, 0.4: 1 of 2
    points[("churn", "drift_share")].append(MetricPoint(b + 5 * hour, 0.35, 5000))
    assert evaluate(platform, "drift", b + 5 * hour) == "ALARM"
    assert "2 out of the last 3 datapoints" in sdk.alarms.get("drift").state_reason


def test_a_per_variant_quality_metric_is_accepted_and_a_bad_one_refused(sdk: Client) -> None:
    info = sdk.alarms.put("acc", "monitor:churn", "quality.accuracy@blue", "<", 0.8)
    assert (info.metric, info.min_samples) == ("quality.accuracy@blue", 1)
    with pytest.raises(InvalidInput) as refused:
        sdk.alarms.put("bad", "monitor:churn", "drift share;", "<", 0.8)
    assert refused.value.field == "metric"
