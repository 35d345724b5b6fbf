"""Zero downtime: rollouts and rollbacks against the real data plane under steady traffic.

A serving app built by ``build_serving_app`` answers on 127.0.0.1 while four
threads send requests without pause; the controller rolls a canary all the
way, has a second rollout rolled back by its alarm, and a third stopped by
hand. Every request must be answered, and answers must show both versions.
"""

from __future__ import annotations

from pathlib import Path

from tests.endpoints.dataplanekit import (
    MODEL,
    Traffic,
    embedded,
    register_three,
    serving,
    wait_for,
)

from shipyard.client import Client, LocalTransport
from shipyard.deploy import DeploymentEvent
from shipyard.security import context_for


def test_canary_rollout_and_rollbacks_lose_no_request(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform:
        register_three(platform)
        sdk = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
        sdk.endpoints.create("bc", f"{MODEL}@1")
        timeline: list[DeploymentEvent] = []
        with serving(platform, "bc") as served, Traffic(served.url, served.token) as traffic:
            wait_for(lambda: traffic.count() >= 20)
            canary = sdk.deployments.deploy(
                "bc",
                f"{MODEL}@2",
                canary_percent=30,
                bake="1.5s",
                rollback_on="error_rate>1%",
                on_event=timeline.append,
            )
            assert canary.status == "succeeded", canary.reason
            assert "1 serving worker(s) loaded" in canary.history[1].note
            baked = [e for e in canary.history if e.event == "baked"]
            assert baked[0].metrics is not None and baked[0].metrics["requests"] > 0
            assert baked[0].metrics["errors"] == 0

            alarmed = sdk.deployments.deploy(
                "bc",
                f"{MODEL}@3",
                canary_percent=30,
                bake="60s",
                rollback_on="p50_latency > 0.0001ms",
                on_event=timeline.append,
            )
            assert alarmed.status == "rolled_back"
            assert alarmed.reason.startswith("alarm: p50_latency ")

            forced = sdk.deployments.start("bc", f"{MODEL}@3", variant="v3-again", bake="60s")
            wait_for(lambda: sdk.deployments.advance(forced.id).progress.phase == "baking")  # type: ignore[union-attr]
            wait_for(lambda: ("v3-again", "3") in traffic.seen())
            stopped = sdk.deployments.rollback("bc")
            timeline.extend(stopped.history)
            assert stopped.status == "rolled_back"
            generation = sdk.endpoints.get("bc").generation
            wait_for(lambda: served.app.config.generation == generation)
            settled = traffic.count()
            wait_for(lambda: traffic.count() >= settled + 20)
        assert traffic.failed == []
        seen = traffic.seen()
        assert {("primary", "1"), (f"{MODEL}-v2", "2"), (f"{MODEL}-v3", "3")} <= seen
        assert ("v3-again", "3") in seen
        final = sdk.endpoints.get("bc")
        assert [(v.name, v.model_version, v.weight) for v in final.variants] == [
            (f"{MODEL}-v2", 2, 100.0)
        ]
        events = [e.event for e in timeline]
        assert events.count("shift") >= 3 and "alarm" in events and "rolled_back" in events
        assert traffic.ok > 100
