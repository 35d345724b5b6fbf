"""Rollout steps and automatic rollbacks are in the audit trail, as the mutations they are."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from tests.endpoints.endpointkit import MODEL, heartbeat, register_versions, write_stats

from shipyard.client import Client, LocalTransport
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import tables as t

NEW = f"{MODEL}-v2"


@pytest.fixture
def sdk(platform: Platform) -> Client:
    register_versions(platform, 3)
    client = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    client.endpoints.create("bc", f"{MODEL}@1")
    return client


def _events(platform: Platform, deployment_id: str) -> list[t.AuditEvent]:
    with platform.db.session() as session:
        query = (
            sa.select(t.AuditEvent)
            .where(t.AuditEvent.request_id == deployment_id)
            .order_by(t.AuditEvent.id)
        )
        return list(session.scalars(query))


def test_each_traffic_step_is_audited(sdk: Client, platform: Platform) -> None:
    def on_event(event: object) -> None:
        write_stats(platform, "bc", NEW, requests=200, errors=0, latency_ms=3)

    done = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", strategy="canary", canary_percent=10, bake="0s", on_event=on_event
    )
    assert done.status == "succeeded", done.reason
    events = _events(platform, done.id)
    assert [(e.principal, e.action, e.resource, e.outcome) for e in events] == [
        ("admin", "deploy:StepDeployment", "sy:endpoint/bc", "succeeded")
    ] * 3
    assert [e.detail["event"] for e in events] == ["shift", "shift", "succeeded"]
    assert [e.detail["weights"] for e in events] == [
        {"primary": 90.0, NEW: 10.0},
        {"primary": 0.0, NEW: 100.0},
        {NEW: 100.0},
    ]
    assert {e.detail["by"] for e in events} == {"rollout-controller"}
    generations = [e.detail["generation"] for e in events]
    assert generations == sorted(generations) and len(set(generations)) == 3


def test_an_alarm_rollback_is_audited_with_its_reason(sdk: Client, platform: Platform) -> None:
    ahead = time.time() // 10 * 10 + 20  # a window the rollout's start cannot skip
    write_stats(platform, "bc", NEW, requests=100, errors=5, window_start=ahead)
    done = sdk.deployments.deploy("bc", f"{MODEL}@2", bake="1h", rollback_on="error_rate>1%")
    assert done.status == "rolled_back"
    last = _events(platform, done.id)[-1]
    assert (last.principal, last.action, last.resource) == (
        "admin",
        "deploy:RollbackDeployment",
        "sy:endpoint/bc",
    )
    assert last.detail["status"] == "rolled_back"
    assert last.detail["reason"] == "alarm: error_rate 5% > 1%"
    assert last.detail["weights"] == {"primary": 1.0}


def test_a_failed_health_check_is_audited_as_a_rollback(sdk: Client, platform: Platform) -> None:
    generation = sdk.endpoints.get("bc").generation
    heartbeat(platform, "bc", generation=generation, variants=["primary"], worker="slow")
    info = sdk.deployments.start("bc", f"{MODEL}@2", health_timeout="0.2s")
    deadline = time.monotonic() + 20
    done = sdk.deployments.advance(info.id)
    while done.status == "running" and time.monotonic() < deadline:
        threading.Event().wait(0.05)
        heartbeat(platform, "bc", generation=generation, variants=["primary"], worker="slow")
        done = sdk.deployments.advance(info.id)
    assert done.status == "failed"
    (event,) = _events(platform, info.id)
    assert event.action == "deploy:RollbackDeployment"
    assert event.detail["status"] == "failed"
    assert "slow did not load generation" in event.detail["reason"]
