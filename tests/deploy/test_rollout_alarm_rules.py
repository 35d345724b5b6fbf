"""Rollout alarms follow the alarm rules: a minimum sample size and M of N datapoints."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from tests.endpoints.endpointkit import MODEL, register_versions, write_stats

from shipyard.client import Client, LocalTransport
from shipyard.deploy._judge import judge
from shipyard.endpoints import variant_metrics
from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import endpoint_tables as et

NEW = f"{MODEL}-v2"


@pytest.fixture
def sdk(platform: Platform) -> Client:
    register_versions(platform, 2)
    client = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    client.endpoints.create("bc", f"{MODEL}@1")
    return client


def test_a_canary_is_not_rolled_back_on_eighteen_requests(sdk: Client, platform: Platform) -> None:
    ahead = time.time() // 10 * 10 + 20  # a window the rollout's start cannot skip
    write_stats(platform, "bc", NEW, requests=18, errors=3, window_start=ahead)
    info = sdk.deployments.start("bc", f"{MODEL}@2", bake="1h", rollback_on="error_rate>5%")
    assert info.spec["min_requests"] == 50
    for _ in range(3):
        info = sdk.deployments.advance(info.id)
    assert info.status == "running"  # 3 errors in 18 requests: too few to judge
    write_stats(platform, "bc", NEW, requests=40, errors=3, window_start=ahead, worker="w2")
    done = sdk.deployments.advance(info.id)
    assert done.status == "rolled_back"
    assert done.reason == "alarm: error_rate 10.3% > 5%"  # 6 errors in 58 requests


def test_a_quiet_step_is_promoted_and_says_it_was_not_judged(
    sdk: Client, platform: Platform
) -> None:
    write_stats(platform, "bc", NEW, requests=10, errors=5)
    done = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", strategy="all-at-once", bake="0s", rollback_on="error_rate>1%"
    )
    assert done.status == "succeeded"
    baked = next(e for e in done.history if e.event == "baked")
    assert "fewer than 50 requests: the alarm could not judge" in baked.note


def test_a_quiet_step_can_be_rolled_back_instead(sdk: Client, platform: Platform) -> None:
    done = sdk.deployments.deploy(
        "bc",
        f"{MODEL}@2",
        strategy="all-at-once",
        bake="0s",
        rollback_on="error_rate>1%",
        alarm_missing="breaching",
        min_requests=100,
    )
    assert done.status == "rolled_back"
    assert done.reason == "alarm: requests 0 < min_requests 100"


def _row(platform: Platform, deployment: str, started: float) -> et.Deployment:
    with platform.db.session() as session:
        session.execute(
            sa.update(et.Deployment)
            .where(et.Deployment.id == deployment)
            .values(step_started_at=started)
        )
        row = session.get(et.Deployment, deployment)
        assert row is not None
        return row


def test_m_of_n_datapoints_roll_back(sdk: Client, platform: Platform) -> None:
    info = sdk.deployments.start(
        "bc",
        f"{MODEL}@2",
        bake="1h",
        rollback_on="error_rate>5%",
        alarm_periods=3,
        alarm_datapoints=2,
        min_requests=20,
    )
    sdk.deployments.advance(info.id)
    now = 1_900_000_005.0  # a fixed clock: windows 1_899_999_980, ..._990, 1_900_000_000
    w0 = 1_900_000_000.0
    row = _row(platform, info.id, now - 35)
    write_stats(platform, "bc", NEW, requests=100, errors=20, window_start=w0)
    write_stats(platform, "bc", NEW, requests=100, errors=0, window_start=w0 - 10)
    write_stats(platform, "bc", NEW, requests=10, errors=10, window_start=w0 - 20)  # too few

    def judged() -> tuple[bool, str]:
        with platform.db.session() as session:
            whole = variant_metrics(session, "bc", since=row.step_started_at, variants=[NEW])
            found = judge(session, row, whole[NEW], now, baked=False)
        return found.fired, found.reason

    assert judged() == (False, "")  # 1 of 3 trips; one is missing
    write_stats(platform, "bc", NEW, requests=30, errors=10, window_start=w0 - 20, worker="w2")
    assert judged() == (True, "error_rate 20% > 5% in 2 of the last 3 datapoints")


def test_bad_alarm_rules_name_the_option(sdk: Client) -> None:
    for options, field in [
        ({"min_requests": 0}, "min_requests"),
        ({"alarm_periods": 2, "alarm_datapoints": 3}, "alarm_datapoints"),
        ({"alarm_period": "5s"}, "alarm_period"),
        ({"alarm_missing": "ignore"}, "alarm_missing"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            sdk.deployments.start("bc", f"{MODEL}@2", **options)
        assert refused.value.field == field
