"""An alarm on a canary's metrics rolls back the real deployment, as its creator; a creator
who has lost a right is refused; the scheduler evaluates alarms every period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.alarms.alarmkit import NEW, at, period_start, sdk
from tests.endpoints.endpointkit import MODEL, write_stats

from shipyard.alarms import RollbackAction
from shipyard.alarms._evaluate import evaluate
from shipyard.alarms._scheduled import SOURCE
from shipyard.client import Client, LocalTransport
from shipyard.clock import utcnow
from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.scheduling import Scheduler
from shipyard.security import context_for

__all__ = ["sdk"]


def _canary(sdk: Client) -> str:
    started = sdk.deployments.start("bc", f"{MODEL}@2", bake="1h")
    sdk.deployments.advance(started.id)
    assert sdk.endpoints.get("bc").weights == {"primary": 90.0, NEW: 10.0}
    return started.id


def test_an_alarm_on_the_canary_rolls_the_deployment_back(sdk: Client, platform: Platform) -> None:
    deployment = _canary(sdk)
    sdk.alarms.put(
        "canary-errors",
        "endpoint:bc",
        f"error_rate@{NEW}",
        ">",
        0.05,
        period="10s",
        evaluation_periods=2,
        datapoints_to_alarm=2,
        min_samples=30,
        actions=[RollbackAction(endpoint="bc")],
    )
    b = period_start()
    write_stats(platform, "bc", NEW, requests=18, errors=3, window_start=b)  # too few to judge
    write_stats(platform, "bc", NEW, requests=60, errors=9, window_start=b + 10)
    assert evaluate(platform, "canary-errors", at(b + 20)) == "OK"  # 1 of 2: not yet
    assert sdk.deployments.get(deployment).status == "running"
    write_stats(platform, "bc", NEW, requests=60, errors=6, window_start=b + 20)
    assert evaluate(platform, "canary-errors", at(b + 30)) == "ALARM"
    done = sdk.deployments.get(deployment)
    assert done.status == "rolled_back"
    assert done.reason == "rolled back by admin"
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0}
    (acted,) = [e for e in sdk.alarms.history("canary-errors") if e.kind == "action"]
    assert acted.detail["ok"] is True
    assert acted.reason == f"rolled back deployment {deployment} on endpoint bc (rolled_back)"


def test_no_running_deployment_means_nothing_is_undone(sdk: Client, platform: Platform) -> None:
    done = sdk.deployments.deploy("bc", f"{MODEL}@2", strategy="all-at-once", bake="0s")
    assert done.status == "succeeded"
    sdk.alarms.put(
        "after", "endpoint:bc", "error_rate", ">", 0.05, period="10s", min_samples=10,
        actions=[RollbackAction(endpoint="bc")],
    )  # fmt: skip
    b = period_start()
    write_stats(platform, "bc", NEW, requests=50, errors=50, window_start=b)
    assert evaluate(platform, "after", at(b + 10)) == "ALARM"
    assert sdk.endpoints.get("bc").weights == {NEW: 100.0}  # the finished rollout stays
    (acted,) = [e for e in sdk.alarms.history("after") if e.kind == "action"]
    assert "no running deployment" in acted.reason


def _operator(sdk: Client, platform: Platform, *, rollback: bool) -> Client:
    """A principal allowed alarms, reading bc's metrics and (maybe) rolling bc back."""
    statements = [
        {"Effect": "Allow", "Action": "alarms:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "endpoints:ReadMetrics", "Resource": "sy:endpoint/bc"},
    ]
    if rollback:
        statements.append(
            {"Effect": "Allow", "Action": "deploy:RollbackDeployment", "Resource": "sy:endpoint/bc"}
        )
    sdk.iam.create_principal("ops")
    sdk.iam.put_policy("ops-alarms", {"Version": "2012-10-17", "Statement": statements})
    sdk.iam.attach_policy("ops", "ops-alarms")
    return Client(transport=LocalTransport(platform, context_for(platform, "ops")))


def test_creating_a_rollback_alarm_needs_the_rollback_right(
    sdk: Client, platform: Platform
) -> None:
    ops = _operator(sdk, platform, rollback=False)
    with pytest.raises(AccessDenied) as refused:
        ops.alarms.put(
            "sneaky", "endpoint:bc", "error_rate", ">", 0.05, period="10s",
            actions=[RollbackAction(endpoint="bc")],
        )  # fmt: skip
    assert "deploy:RollbackDeployment" in refused.value.message
    ops.alarms.put("plain", "endpoint:bc", "error_rate", ">", 0.05, period="10s")


def test_a_creator_who_lost_the_right_is_refused_when_the_alarm_runs(
    sdk: Client, platform: Platform
) -> None:
    deployment = _canary(sdk)
    ops = _operator(sdk, platform, rollback=True)
    ops.alarms.put(
        "ops-canary", "endpoint:bc", f"error_rate@{NEW}", ">", 0.05, period="10s",
        min_samples=10, actions=[RollbackAction(endpoint="bc")],
    )  # fmt: skip
    sdk.iam.detach_policy("ops", "ops-alarms")
    b = period_start()
    write_stats(platform, "bc", NEW, requests=50, errors=50, window_start=b)
    assert evaluate(platform, "ops-canary", at(b + 10)) == "INSUFFICIENT_DATA"
    info = sdk.alarms.get("ops-canary")
    assert info.state_reason.startswith("Refused: the alarm's creator ops may no longer have it")
    assert sdk.deployments.get(deployment).status == "running"


def test_the_scheduler_evaluates_each_period_of_an_alarm(sdk: Client, platform: Platform) -> None:
    sdk.alarms.put("sched", "endpoint:bc", "requests", ">", 100, period="10s")
    with platform.db.session() as session:
        (schedule,) = SOURCE.schedules(session)
    every = timedelta(seconds=10)
    assert (schedule.kind, schedule.target, schedule.every) == ("alarm", "sched", every)
    start = schedule.anchor.timestamp()  # a period boundary + 10 s settling time
    write_stats(platform, "bc", "primary", requests=500, window_start=start)
    clock_now = utcnow() + timedelta(seconds=30)
    scheduler = Scheduler(platform, {"alarm": SOURCE}, clock=lambda: clock_now)
    assert scheduler.tick() >= 2  # the first period (no traffic), the second (500 requests)
    scheduler.wait_idle()
    history = sdk.alarms.history("sched")
    changes = [(e.old_state, e.new_state) for e in reversed(history) if e.kind == "state"]
    assert changes[0] == ("INSUFFICIENT_DATA", "ALARM")
    assert changes[1:] in ([], [("ALARM", "INSUFFICIENT_DATA")])  # the third, if it has ended
    assert scheduler.tick() == 0  # each period once
