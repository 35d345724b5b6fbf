"""The rollout controller: a state machine whose whole state lives in the ``deployments`` row.

A tick (``advance``) reads the new variant's live metrics, decides, and applies
at most one transition in a transaction that holds the endpoint's lock and
re-checks that the deployment is still where the tick found it. So the CLI or
SDK that started a rollout, a worker process, a resumed controller and a manual
rollback can all act on one deployment without ever interleaving, and a
controller that dies loses nothing: the next tick carries on from the row.

Every transition is audited in its own transaction, as the mutation it is: a
traffic step or the takeover as ``deploy:StepDeployment``, an automatic rollback
(alarm, failed health check) as ``deploy:RollbackDeployment``, on the endpoint,
by the deployment's creator (the controller acts on that principal's request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import epoch_seconds, utcnow
from shipyard.deploy._alarms import format_metric
from shipyard.deploy._judge import judge
from shipyard.deploy._plan import step_weights
from shipyard.endpoints import (
    INSTANCE_LIVE_SECONDS,
    VariantMetrics,
    bump,
    find_endpoint,
    lock_endpoint,
    restore,
    variant_metrics,
    variants_of,
)
from shipyard.errors import NotFound
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.deploy import DeploymentEvent, DeploymentInfo, StepProgress
from shipyard.security import add_event
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t

STALE_SECONDS = 15.0
STEP_ACTION = "deploy:StepDeployment"
ROLLBACK_ACTION = "deploy:RollbackDeployment"
CONTROLLER = "rollout-controller"
Kind = Literal["wait", "shift", "succeed", "rollback", "fail"]


@dataclass(frozen=True)
class _Decision:
    kind: Kind
    note: str = ""
    step: int = 0
    metrics: VariantMetrics | None = None


def event(
    kind: str,
    *,
    step: int | None = None,
    weights: dict[str, float] | None = None,
    metrics: VariantMetrics | None = None,
    note: str = "",
    at: float | None = None,
) -> dict[str, Any]:
    """A history entry as stored (JSON); ``at`` is the tick's time (epoch seconds)."""
    when = utcnow() if at is None else datetime.fromtimestamp(at, UTC)
    return {
        "time": when.isoformat(),
        "event": kind,
        "step": step,
        "weights": weights or {},
        "metrics": metrics.model_dump(exclude={"variant"}) if metrics else None,
        "note": note,
    }


def append(row: et.Deployment, *events: dict[str, Any]) -> None:
    row.history = [*row.history, *events]


def find_deployment(session: Session, deployment_id: str) -> et.Deployment:
    row = session.get(et.Deployment, deployment_id)
    if row is None:
        raise NotFound(f"deployment {deployment_id!r} does not exist", field="deployment_id")
    return row


def production_weights(session: Session, endpoint_id: int) -> dict[str, float]:
    return {v.name: v.weight for v in variants_of(session, endpoint_id) if v.role == "production"}


def _step_metrics(session: Session, row: et.Deployment) -> VariantMetrics:
    found = variant_metrics(
        session, row.endpoint, since=row.step_started_at, variants=[row.to_variant]
    )
    return found[row.to_variant]


def deployment_info(
    session: Session, row: et.Deployment, *, metrics: VariantMetrics | None = None
) -> DeploymentInfo:
    spec = row.spec
    now = epoch_seconds()
    progress = None
    if row.status == "running":
        elapsed = round(max(now - row.step_started_at, 0.0), 3)
        if row.step < 0:
            progress = StepProgress(
                phase="warming",
                step=0,
                steps=len(spec["steps"]),
                percent=0.0,
                elapsed_seconds=elapsed,
                bake_seconds=spec["health_timeout_seconds"],
            )
        else:
            progress = StepProgress(
                phase="baking",
                step=row.step,
                steps=len(spec["steps"]),
                percent=spec["steps"][row.step],
                elapsed_seconds=elapsed,
                bake_seconds=spec["bake_seconds"],
                metrics=metrics or _step_metrics(session, row),
            )
    return DeploymentInfo(
        id=row.id,
        endpoint=row.endpoint,
        strategy=row.strategy,
        status=cast(Any, row.status),
        model=spec.get("model", ""),
        to_variant=row.to_variant,
        steps=spec.get("steps", []),
        bake_seconds=spec.get("bake_seconds", 0.0),
        rollback_on=spec.get("rollback_on", ""),
        spec=spec,
        from_variants=row.from_variants,
        history=[DeploymentEvent.model_validate(e) for e in row.history],
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        ended_at=row.ended_at,
        seconds_since_heartbeat=round(max(now - row.heartbeat_at, 0.0), 3)
        if row.status == "running"
        else None,
        progress=progress,
    )


def _warming(session: Session, row: et.Deployment, now: float) -> _Decision:
    """Wait until every live serving worker serves the generation with the new variant."""
    target = row.spec["target_generation"]
    instances = list(
        session.scalars(
            sa.select(et.EndpointInstance).where(
                et.EndpointInstance.endpoint == row.endpoint,
                et.EndpointInstance.heartbeat_at >= now - INSTANCE_LIVE_SECONDS,
            )
        )
    )
    for instance in instances:
        failed = instance.failed_generation
        if failed is not None and failed >= target and instance.generation < target:
            return _Decision(
                "fail",
                f"serving worker {instance.worker} could not load the new variant "
                f"(generation {failed}): {instance.error or 'no reason given'}",
            )
        if instance.generation >= target and row.to_variant not in instance.variants:
            return _Decision(
                "fail",
                f"serving worker {instance.worker} serves generation {instance.generation} "
                f"without variant {row.to_variant!r}",
            )
    behind = sorted(i.worker for i in instances if i.generation < target)
    if behind:
        timeout = row.spec["health_timeout_seconds"]
        if now - row.step_started_at > timeout:
            return _Decision(
                "fail",
                f"serving workers {', '.join(behind)} did not load generation {target} "
                f"within {timeout:g} s",
            )
        return _Decision("wait")
    if instances:
        note = f"{len(instances)} serving worker(s) loaded {row.to_variant} (generation {target})"
    else:
        note = "no serving worker is running; the new variant loads when one starts"
    return _Decision("shift", note, step=0)


def _decide(session: Session, row: et.Deployment, now: float) -> _Decision:
    if row.step < 0:
        return _warming(session, row, now)
    spec = row.spec
    metrics = _step_metrics(session, row)
    baked = now - row.step_started_at >= spec["bake_seconds"]
    judgement = judge(session, row, metrics, now, baked)
    if judgement.fired:
        return _Decision("rollback", f"alarm: {judgement.reason}", row.step, metrics)
    if not baked:
        return _Decision("wait", metrics=metrics)
    if row.step + 1 < len(spec["steps"]):
        return _Decision("shift", judgement.note, step=row.step + 1, metrics=metrics)
    return _Decision("succeed", judgement.note, step=row.step, metrics=metrics)


def _summary(metrics: VariantMetrics) -> str:
    values = metrics.alarm_values()
    return ", ".join(
        f"{name} {format_metric(name, values[name])}"
        for name in ("requests", "error_rate", "p99_latency")
    )


def _claim(session: Session, deployment_id: str, step: int, now: float) -> bool:
    """Mark a tick on a deployment that is still running at ``step``; False if it moved on."""
    table = et.Deployment
    result = session.execute(
        sa.update(table)
        .where(table.id == deployment_id, table.status == "running", table.step == step)
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return cast("sa.CursorResult[Any]", result).rowcount == 1


def advance(platform: Platform, deployment_id: str) -> DeploymentInfo:
    """One controller tick: evaluate, then shift, finish, roll back, or just wait."""
    now = epoch_seconds()
    with platform.db.session() as session:
        row = find_deployment(session, deployment_id)
        if row.status != "running":
            return deployment_info(session, row)
        step = row.step
        decision = _decide(session, row, now)
    with platform.db.session() as session:
        if decision.kind == "wait":
            _claim(session, deployment_id, step, now)
            return deployment_info(
                session, _fresh(session, deployment_id), metrics=decision.metrics
            )
        endpoint = find_endpoint(session, find_deployment(session, deployment_id).endpoint)
        state = lock_endpoint(session, endpoint)
        claimed = _claim(session, deployment_id, step, now)
        current = _fresh(session, deployment_id)
        if claimed:
            _apply(session, current, endpoint, state, decision, now)
        return deployment_info(session, current, metrics=decision.metrics)


def _fresh(session: Session, deployment_id: str) -> et.Deployment:
    row = session.get(et.Deployment, deployment_id, populate_existing=True)
    if row is None:
        raise NotFound(f"deployment {deployment_id!r} does not exist", field="deployment_id")
    return row


def _apply(
    session: Session,
    row: et.Deployment,
    endpoint: t.Endpoint,
    state: et.EndpointState,
    decision: _Decision,
    now: float,
) -> None:
    if decision.kind == "shift":
        _shift(session, row, endpoint, state, decision, now)
    elif decision.kind == "succeed":
        _succeed(session, row, endpoint, state, decision, now)
    else:
        _restore(session, row, endpoint, state, decision, now)
    _audit(session, row, state)


def _audit(session: Session, row: et.Deployment, state: et.EndpointState) -> None:
    """Record the transition just applied, in its transaction, as the mutation it is."""
    last = row.history[-1]
    rolled_back = row.status in ("rolled_back", "failed")
    add_event(
        session,
        principal=row.created_by,
        action=ROLLBACK_ACTION if rolled_back else STEP_ACTION,
        resource=resource("endpoint", row.endpoint),
        outcome="succeeded",
        request_id=row.id,
        detail={
            "by": CONTROLLER,
            "deployment": row.id,
            "event": last["event"],
            "status": row.status,
            "step": last["step"],
            "weights": last["weights"],
            "generation": state.generation,
            "reason": row.reason or last["note"],
        },
    )


def _shift(
    session: Session,
    row: et.Deployment,
    endpoint: t.Endpoint,
    state: et.EndpointState,
    decision: _Decision,
    now: float,
) -> None:
    """Give the new variant its next share; the old ones split the rest as they did before."""
    steps = row.spec["steps"]
    if row.step < 0:
        append(row, event("ready", note=decision.note, at=now))
    elif decision.metrics is not None:
        append(row, _baked(row, decision.metrics, now, decision.note))
    old = {v["name"]: v["weight"] for v in row.from_variants if v["role"] == "production"}
    percent = steps[decision.step]
    weights = step_weights(old, row.to_variant, percent)
    for variant in variants_of(session, endpoint.id):
        if variant.name in weights:
            variant.weight = weights[variant.name]
    bump(session, endpoint, state)
    row.step, row.step_started_at = decision.step, now
    note = (
        f"step {decision.step + 1}/{len(steps)}: {row.to_variant} at {percent:g}% "
        f"(generation {state.generation})"
    )
    weights_now = production_weights(session, endpoint.id)
    append(row, event("shift", step=decision.step, weights=weights_now, note=note, at=now))


def _succeed(
    session: Session,
    row: et.Deployment,
    endpoint: t.Endpoint,
    state: et.EndpointState,
    decision: _Decision,
    now: float,
) -> None:
    """The last step baked cleanly: the new variant takes over and the old ones are removed."""
    assert decision.metrics is not None
    append(row, _baked(row, decision.metrics, now, decision.note))
    replaced = [v["name"] for v in row.from_variants if v["role"] == "production"]
    for variant in variants_of(session, endpoint.id):
        if variant.name == row.to_variant:
            variant.weight = 100.0
        elif variant.name in replaced:
            session.delete(variant)
    bump(session, endpoint, state)
    note = (
        f"{row.to_variant} serves all traffic; removed {', '.join(replaced)} "
        f"(`shipyard deploy --rollback {row.endpoint}` brings back what it replaced)"
    )
    weights = production_weights(session, endpoint.id)
    finish(row, "succeeded", "", event("succeeded", weights=weights, note=note, at=now))


def _restore(
    session: Session,
    row: et.Deployment,
    endpoint: t.Endpoint,
    state: et.EndpointState,
    decision: _Decision,
    now: float,
) -> None:
    """An alarm or a failed health check: every variant back as it was before the rollout."""
    restore(session, endpoint, row.from_variants)
    bump(session, endpoint, state)
    status = "rolled_back" if decision.kind == "rollback" else "failed"
    cause = event(
        "alarm" if status == "rolled_back" else "health_check_failed",
        step=decision.step if row.step >= 0 else None,
        metrics=decision.metrics,
        note=decision.note,
        at=now,
    )
    weights = production_weights(session, endpoint.id)
    note = "restored the variants from before the rollout"
    finish(row, status, decision.note, cause, event(status, weights=weights, note=note, at=now))


def _baked(
    row: et.Deployment, metrics: VariantMetrics, now: float, judged: str = ""
) -> dict[str, Any]:
    percent = row.spec["steps"][row.step]
    note = f"step {row.step + 1} ({percent:g}%) baked {row.spec['bake_seconds']:g} s: " + _summary(
        metrics
    )
    if judged:
        note += f" ({judged})"
    return event("baked", step=row.step, metrics=metrics, note=note, at=now)


def finish(row: et.Deployment, status: str, reason: str, *events: dict[str, Any]) -> None:
    row.status = status
    row.reason = reason
    row.ended_at = utcnow()
    append(row, *events)
