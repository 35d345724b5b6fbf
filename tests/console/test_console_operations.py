"""The operations the console leans on, on SQLite and PostgreSQL: reduced metric charts,
traffic per variant, the policy simulator, audit paging, and the session store."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shipyard.clock import epoch_seconds, utcnow
from shipyard.errors import AccessDenied, InvalidInput, NotFound, Unauthenticated
from shipyard.operations import BY_NAME
from shipyard.platform import Platform
from shipyard.security import (
    ResourceName,
    check_csrf,
    close_session,
    context_for,
    create_api_key,
    create_principal,
    list_audit_events,
    open_session,
    put_policy,
    record_event,
    revoke_api_key,
    session_state,
    simulate_policy,
)
from shipyard.store.metadata import console_tables as ct
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, create_run, end_run, log_batch, metric_chart


def test_a_long_history_is_reduced_to_buckets_that_keep_its_extremes(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    run = create_run(admin, experiment="charts")
    values = [float(step % 97) for step in range(10_000)]
    values[4321] = 1e6  # one spike the chart must keep
    for start in range(0, 10_000, 1000):
        log_batch(
            admin,
            run.id,
            metrics=[
                MetricPoint(key="loss", value=values[s], step=s, timestamp=1.0 + s)
                for s in range(start, start + 1000)
            ],
        )
    chart = metric_chart(admin, run.id, "loss", max_points=100)
    assert chart.total_points == 10_000
    assert len(chart.mean) == 100
    assert sum(chart.count) == 10_000
    assert chart.step_first[0] == 0 and chart.step_last[-1] == 9999
    assert max(chart.max) == 1e6 and min(chart.min) == 0.0
    spike = next(i for i, high in enumerate(chart.max) if high == 1e6)
    assert chart.step_first[spike] <= 4321 <= chart.step_last[spike]
    first = values[chart.step_first[0] : chart.step_last[0] + 1]
    assert chart.mean[0] == pytest.approx(sum(first) / len(first))
    short = metric_chart(admin, run.id, "loss", max_points=5000)
    assert len(short.mean) == 5000
    assert metric_chart(admin, run.id, "missing").total_points == 0
    # a running run's chart follows new points; an ended one's is kept (it takes no more)
    log_batch(admin, run.id, metrics=[MetricPoint(key="loss", value=5.0, step=10_000)])
    assert metric_chart(admin, run.id, "loss", max_points=100).total_points == 10_001
    end_run(admin, run.id)
    ended = metric_chart(admin, run.id, "loss", max_points=100)
    assert ended == metric_chart(admin, run.id, "loss", max_points=100)
    assert ended.total_points == 10_001
    with pytest.raises(InvalidInput) as bad:
        metric_chart(admin, run.id, "loss", max_points=0)
    assert bad.value.field == "max_points"


def test_traffic_is_bucketed_per_variant(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    run = create_run(admin, experiment="traffic")
    now = epoch_seconds()
    with platform.db.session() as session:
        model = t.Model(name="m")
        session.add(model)
        session.flush()
        version = t.ModelVersion(
            model_id=model.id,
            version=1,
            run_id=run.id,
            flavor="sklearn",
            digest="sha256:0",
            size_bytes=0,
            signature={},
            metrics={},
            created_by="admin",
        )
        session.add(version)
        session.flush()
        session.add(
            t.Endpoint(name="ep", model_ref="m@1", model_version_id=version.id, created_by="admin")
        )
        for variant, errors in (("a", 0), ("b", 5)):
            for ago in (25, 125, 1000):
                session.add(
                    et.VariantStats(
                        endpoint="ep",
                        variant=variant,
                        worker="w1",
                        window_start=now - ago,
                        requests=10,
                        errors=errors,
                        latency_sum_ms=50.0,
                        latency_buckets={"bounds": [5, 10], "counts": [10, 0, 0]},
                    )
                )
    traffic = BY_NAME["endpoints.traffic"].invoke(admin, {"name": "ep", "minutes": 5, "buckets": 5})
    assert traffic.buckets == 5 and traffic.bucket_seconds == 60
    by_variant = {v.variant: v for v in traffic.variants}
    assert sum(by_variant["a"].requests) == 20  # the window 1000 s ago is outside
    assert by_variant["a"].requests[-1] == 10 and by_variant["a"].error_rate[-1] == 0.0
    assert by_variant["b"].error_rate[-1] == 0.5
    assert by_variant["a"].p50_latency_ms[-1] is not None
    with pytest.raises(NotFound):
        BY_NAME["endpoints.traffic"].invoke(admin, {"name": "nope"})


def test_the_simulator_names_the_deciding_statement(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "dana")
    put_policy(
        admin,
        "Mixed",
        {
            "Statement": [
                {"Sid": "Read", "Effect": "Allow", "Action": "registry:*", "Resource": "*"},
                {
                    "Sid": "NotM",
                    "Effect": "Deny",
                    "Action": "registry:GetModelVersion",
                    "Resource": "sy:model/m",
                },
            ]
        },
    )
    BY_NAME["iam.attach_policy"].invoke(admin, {"principal": "dana", "policy": "Mixed"})
    allowed = simulate_policy(admin, "dana", "registry:GetModelVersion", "sy:model/other/2")
    assert allowed.decision == "allow" and allowed.deciding is not None
    assert allowed.deciding.sid == "Read"
    denied = simulate_policy(admin, "dana", "registry:GetModelVersion", "sy:model/m/3")
    assert denied.decision == "explicit_deny"
    assert denied.deciding is not None and denied.deciding.sid == "NotM"
    assert [m.sid for m in denied.matched] == ["Read", "NotM"]
    nothing = simulate_policy(admin, "dana", "datasets:GetDataset", "sy:dataset/d")
    assert nothing.decision == "default_deny" and nothing.deciding is None
    # the simulator agrees with the real check
    dana = context_for(platform, "dana")
    with pytest.raises(AccessDenied):
        dana.authorize("registry:GetModelVersion", ResourceName.versioned("model", "m", 3))
    with pytest.raises(InvalidInput) as bad:
        simulate_policy(admin, "dana", "nonsense", "sy:model/m")
    assert bad.value.field == "action"
    with pytest.raises(NotFound):
        simulate_policy(admin, "ghost", "registry:GetModel", "sy:model/m")


def test_audit_events_page_by_id_and_filter_by_resource_and_outcome(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    for i in range(30):
        record_event(
            platform.db,
            principal="p",
            action="datasets:GetDataset",
            resource=f"sy:dataset/d_{i % 3}",
            outcome="denied" if i % 2 else "allowed",
            request_id=str(i),
        )
    first = list_audit_events(admin, principal="p", limit=10)
    second = list_audit_events(admin, principal="p", limit=10, before_id=first[-1].id)
    assert len(first) == len(second) == 10
    assert max(e.id for e in second) < min(e.id for e in first)
    d1 = list_audit_events(admin, principal="p", resource_prefix="sy:dataset/d_1", limit=100)
    assert len(d1) == 10 and {e.resource for e in d1} == {"sy:dataset/d_1"}
    assert list_audit_events(admin, principal="p", resource_prefix="sy:dataset/d%") == []
    denied = list_audit_events(admin, principal="p", outcome="denied", limit=100)
    assert len(denied) == 15 and {e.outcome for e in denied} == {"denied"}


def test_sessions_live_until_expiry_revocation_or_logout(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "erin")
    put_policy(
        admin,
        "ReadDatasets",
        {"Statement": [{"Effect": "Allow", "Action": "datasets:List*", "Resource": "*"}]},
    )
    BY_NAME["iam.attach_policy"].invoke(admin, {"principal": "erin", "policy": "ReadDatasets"})
    key = create_api_key(admin, "erin")
    assert key.token is not None
    issued = open_session(platform, key.token)
    assert issued.principal == "erin"
    state, ctx = session_state(platform, issued.token)
    assert ctx.principal == "erin" and len(ctx.policies) == 1
    check_csrf(state, issued.csrf_token)
    for wrong in (None, "", issued.token):
        with pytest.raises(AccessDenied):
            check_csrf(state, wrong)
    with platform.db.session() as session:
        stored = session.scalars(sa.select(ct.ConsoleSession)).all()
    assert [s.token_hash for s in stored] != [issued.token]
    with pytest.raises(Unauthenticated):
        open_session(platform, key.token[:-2] + "xx")
    with pytest.raises(Unauthenticated):
        session_state(platform, "not-a-session")

    with platform.db.session() as session:
        session.execute(
            sa.update(ct.ConsoleSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(Unauthenticated):
        session_state(platform, issued.token)

    again = open_session(platform, key.token)
    with platform.db.session() as session:  # the expired one was swept at this login
        assert session.scalar(sa.select(sa.func.count()).select_from(ct.ConsoleSession)) == 1
    revoke_api_key(admin, key.key_id)
    with pytest.raises(Unauthenticated):
        session_state(platform, again.token)
    with pytest.raises(Unauthenticated):
        open_session(platform, key.token)

    fresh = create_api_key(admin, "erin")
    assert fresh.token is not None
    third = open_session(platform, fresh.token)
    close_session(platform, third.token)
    with pytest.raises(Unauthenticated):
        session_state(platform, third.token)
    close_session(platform, third.token)  # twice is fine

    fourth = open_session(platform, fresh.token)
    with platform.db.session() as session:
        session.execute(sa.delete(t.Principal).where(t.Principal.name == "erin"))
    with pytest.raises(Unauthenticated):
        session_state(platform, fourth.token)
