"""The rollout controller on real databases, against variant_stats and heartbeats the tests write.

Each test plays the data plane's part by writing the rows serving workers
write (per-variant stats windows, instance heartbeats), then drives the
controller through the SDK and checks weights, history and the endpoint.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.endpoints.endpointkit import (
    MODEL,
    break_version,
    heartbeat,
    register_versions,
    write_stats,
)

from shipyard.client import Client, LocalTransport
from shipyard.deploy import DeploymentEvent, DeploymentInfo
from shipyard.errors import Conflict, IntegrityError, InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import context_for
from shipyard.store.metadata import endpoint_tables as et

NEW = f"{MODEL}-v2"


@pytest.fixture
def sdk(platform: Platform) -> Client:
    register_versions(platform, 3)
    client = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    client.endpoints.create("bc", f"{MODEL}@1")
    return client


def _events(info: DeploymentInfo) -> list[str]:
    return [e.event for e in info.history]


def test_canary_that_stays_healthy_ends_on_the_new_version(sdk: Client, platform: Platform) -> None:
    before = sdk.endpoints.get("bc")
    seen: list[str] = []

    def on_event(event: DeploymentEvent) -> None:
        seen.append(event.event)
        if seen.count("shift") == 1 and event.event == "shift":  # traffic the canary step sees
            write_stats(platform, "bc", NEW, requests=200, errors=1, latency_ms=3)

    done = sdk.deployments.deploy(
        "bc",
        f"{MODEL}@2",
        strategy="canary",
        canary_percent=10,
        bake="0s",
        rollback_on="error_rate>1% or p99_latency>50ms",
        on_event=on_event,
    )
    assert done.status == "succeeded", done.reason
    assert _events(done) == seen
    assert seen == ["started", "ready", "shift", "baked", "shift", "baked", "succeeded"]
    shifts = [e for e in done.history if e.event == "shift"]
    assert [e.weights for e in shifts] == [
        {"primary": 90.0, NEW: 10.0},
        {"primary": 0.0, NEW: 100.0},
    ]
    baked = [e for e in done.history if e.event == "baked"]
    assert baked[0].metrics is not None and baked[0].metrics["requests"] == 200
    assert baked[0].metrics["error_rate"] == pytest.approx(0.005)
    after = sdk.endpoints.get("bc")
    assert [(v.name, v.model_version, v.weight) for v in after.variants] == [(NEW, 2, 100.0)]
    assert after.generation == before.generation + 4  # add, 10 %, 100 %, remove old
    assert (after.model, after.model_version) == (MODEL, 2)
    assert done.from_variants[0]["name"] == "primary"


def test_alarm_rolls_back_to_the_old_variant_and_says_why(sdk: Client, platform: Platform) -> None:
    before = sdk.endpoints.get("bc")
    ahead = time.time() // 10 * 10 + 20  # a window the rollout's start cannot skip
    write_stats(platform, "bc", NEW, requests=40, errors=4, worker="w1", window_start=ahead)
    write_stats(platform, "bc", NEW, requests=60, errors=1, worker="w2", window_start=ahead)
    done = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", bake="1h", rollback_on="error_rate>1% or p99_latency>50ms"
    )
    assert done.status == "rolled_back"
    assert done.reason == "alarm: error_rate 5% > 1%"
    alarm = next(e for e in done.history if e.event == "alarm")
    assert alarm.metrics is not None
    assert (alarm.metrics["requests"], alarm.metrics["errors"]) == (100, 5)
    assert alarm.step == 0
    assert done.history[-1].weights == {"primary": 1.0}
    after = sdk.endpoints.get("bc")
    assert [(v.name, v.model_version, v.weight) for v in after.variants] == [("primary", 1, 1.0)]
    assert after.generation == before.generation + 3  # add, 10 %, restore
    assert sdk.deployments.get(done.id).status == "rolled_back"


def test_latency_alarm_reads_the_summed_histogram(sdk: Client, platform: Platform) -> None:
    ahead = time.time() // 10 * 10 + 20  # a window the rollout's start cannot skip
    write_stats(platform, "bc", NEW, requests=100, latency_ms=80, worker="w1", window_start=ahead)
    write_stats(platform, "bc", NEW, requests=100, latency_ms=80, worker="w2", window_start=ahead)
    done = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", strategy="all-at-once", bake="1h", rollback_on="p99_latency > 0.05s"
    )
    assert done.status == "rolled_back"
    assert done.reason == "alarm: p99_latency 99.5ms > 0.05s"  # 50 + 50 * 198/200 in (50, 100]


def test_linear_steps_bake_before_moving(sdk: Client, platform: Platform) -> None:
    started = sdk.deployments.start(
        "bc", f"{MODEL}@2", strategy="linear", step_percent=50, bake="1s"
    ).id
    info = sdk.deployments.get(started)
    assert info.steps == [50.0, 100.0]
    deadline = time.monotonic() + 60
    while not info.done and time.monotonic() < deadline:
        info = sdk.deployments.advance(started)
        time.sleep(0.1)
    assert info.status == "succeeded", info.reason
    shifts = [e for e in info.history if e.event == "shift"]
    assert [s.weights[NEW] for s in shifts] == [50.0, 100.0]
    baked = [e for e in info.history if e.event == "baked"]
    for shift, bake in zip(shifts, baked, strict=True):
        assert (bake.time - shift.time).total_seconds() >= 1.0


def test_serving_workers_must_load_the_new_variant_first(sdk: Client, platform: Platform) -> None:
    generation = sdk.endpoints.get("bc").generation
    heartbeat(platform, "bc", generation=generation, variants=["primary"])
    info = sdk.deployments.start("bc", f"{MODEL}@2", bake="0s")
    target = info.spec["target_generation"]
    for _ in range(3):
        info = sdk.deployments.advance(info.id)
    assert info.progress is not None and info.progress.phase == "warming"
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0, NEW: 0.0}
    heartbeat(platform, "bc", generation=target, variants=["primary", NEW])
    info = sdk.deployments.advance(info.id)
    assert info.progress is not None and info.progress.phase == "baking"
    assert "1 serving worker(s) loaded" in info.history[1].note


def test_a_worker_that_cannot_load_aborts_before_traffic_moves(
    sdk: Client, platform: Platform
) -> None:
    before = sdk.endpoints.get("bc")
    info = sdk.deployments.start("bc", f"{MODEL}@2", bake="0s")
    heartbeat(
        platform,
        "bc",
        generation=before.generation,
        variants=["primary"],
        failed_generation=info.spec["target_generation"],
        error="out of memory",
    )
    done = sdk.deployments.advance(info.id)
    assert done.status == "failed"
    assert "out of memory" in done.reason
    assert "shift" not in _events(done)
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0}


def test_health_check_times_out(sdk: Client, platform: Platform) -> None:
    generation = sdk.endpoints.get("bc").generation
    heartbeat(platform, "bc", generation=generation, variants=["primary"], worker="slow")
    info = sdk.deployments.start("bc", f"{MODEL}@2", health_timeout="0.2s")
    time.sleep(0.3)
    heartbeat(platform, "bc", generation=generation, variants=["primary"], worker="slow")
    done = sdk.deployments.advance(info.id)
    assert done.status == "failed"
    assert "slow did not load generation" in done.reason


def test_a_model_that_does_not_load_moves_nothing(sdk: Client, platform: Platform) -> None:
    break_version(platform, 2)
    before = sdk.endpoints.get("bc")
    with pytest.raises(IntegrityError) as failed:
        sdk.deployments.deploy("bc", f"{MODEL}@2")
    assert failed.value.field == "model"
    assert f"{MODEL}@2 failed to load" in failed.value.message
    after = sdk.endpoints.get("bc")
    assert (after.generation, after.weights) == (before.generation, before.weights)
    [record] = sdk.deployments.list("bc")
    assert record.status == "failed" and _events(record) == ["load_failed"]


def test_one_rollout_at_a_time_and_rollback_stops_it(sdk: Client, platform: Platform) -> None:
    first = sdk.deployments.start("bc", f"{MODEL}@2", bake="1h")
    sdk.deployments.advance(first.id)
    assert sdk.endpoints.get("bc").weights == {"primary": 90.0, NEW: 10.0}
    with pytest.raises(Conflict) as busy:
        sdk.deployments.start("bc", f"{MODEL}@3")
    assert first.id in busy.value.message
    with pytest.raises(Conflict):
        sdk.endpoints.set_weights("bc", {"primary": 1})
    with pytest.raises(Conflict):
        sdk.endpoints.delete("bc")
    stopped = sdk.deployments.rollback("bc")
    assert (stopped.id, stopped.status) == (first.id, "rolled_back")
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0}
    assert sdk.deployments.advance(first.id).status == "rolled_back"
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0}


def test_rollback_after_success_restores_the_previous_version(
    sdk: Client, platform: Platform
) -> None:
    with pytest.raises(Conflict) as nothing:
        sdk.deployments.rollback("bc")
    assert nothing.value.field == "endpoint"
    done = sdk.deployments.deploy("bc", f"{MODEL}@2", strategy="all-at-once", bake="0s")
    assert done.status == "succeeded"
    back = sdk.deployments.rollback("bc")
    assert (back.strategy, back.status) == ("rollback", "succeeded")
    assert sdk.endpoints.get("bc").weights == {"primary": 1.0}
    assert sdk.endpoints.get("bc").model_version == 1
    again = sdk.deployments.rollback("bc")
    assert again.status == "succeeded"
    assert sdk.endpoints.get("bc").weights == {NEW: 100.0}
    with pytest.raises(NotFound):
        sdk.deployments.rollback("nosuch")


def test_a_stopped_controller_is_resumed(sdk: Client, platform: Platform) -> None:
    info = sdk.deployments.start("bc", f"{MODEL}@2", bake="0s")
    with pytest.raises(Conflict) as fresh:
        sdk.deployments.resume(info.id, wait=True)
    assert "being driven" in fresh.value.message
    with platform.db.session() as session:
        session.execute(
            sa.update(et.Deployment).where(et.Deployment.id == info.id).values(heartbeat_at=0.0)
        )
    assert sdk.deployments.get(info.id).seconds_since_heartbeat > 60  # type: ignore[operator]
    done = sdk.deployments.resume(info.id, wait=True)
    assert done.status == "succeeded"
    assert "resumed" in _events(done)
    with pytest.raises(Conflict):
        sdk.deployments.resume(info.id)


def test_no_wait_runs_the_controller_in_a_worker_process(sdk: Client, platform: Platform) -> None:
    write_stats(platform, "bc", NEW, requests=10)
    started = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", strategy="canary", bake="0s", rollback_on="error_rate>1%", wait=False
    )
    assert started.status == "running"
    done = sdk.deployments.follow(started.id)
    assert done.status == "succeeded", done.reason
    log = Path(platform.settings.jobs_dir / f"deployment-{started.id}.log").read_text()
    assert "succeeded" in log


def test_an_onnx_variant_rolls_out_once_its_export_loads(sdk: Client, platform: Platform) -> None:
    from shipyard.edge import export_model

    with pytest.raises(InvalidInput) as missing:
        sdk.deployments.start("bc", f"{MODEL}@2", runtime="onnx")
    assert missing.value.field == "runtime"
    export_model(context_for(platform, "admin"), f"{MODEL}@2")
    done = sdk.deployments.deploy(
        "bc", f"{MODEL}@2", variant="edge", runtime="onnx", strategy="all-at-once", bake="0s"
    )
    assert done.status == "succeeded", done.reason
    [variant] = sdk.endpoints.get("bc").variants
    assert (variant.name, variant.runtime, variant.model_version) == ("edge", "onnx", 2)
