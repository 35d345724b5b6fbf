"""Starting a rollout (after checking the new version loads), rolling back, and resuming."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from shipyard.clock import epoch_seconds
from shipyard.deploy._alarms import parse_alarm
from shipyard.deploy._controller import (
    STALE_SECONDS,
    append,
    deployment_info,
    event,
    find_deployment,
    finish,
    production_weights,
)
from shipyard.deploy._judge import AlarmRule
from shipyard.endpoints import (
    bump,
    check_approved,
    check_runtime,
    check_variant_name,
    find_endpoint,
    lock_endpoint,
    resolve_model,
    restore,
    running_deployment,
    snapshot,
    state_of,
    variants_of,
)
from shipyard.errors import Conflict, JobFailed, NotFound, ShipyardError
from shipyard.platform import Platform
from shipyard.schemas.deploy import DeploymentInfo
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t


@dataclass(frozen=True)
class RolloutPlan:
    """A checked rollout request."""

    endpoint: str
    model: str
    strategy: str
    steps: list[float]
    bake_seconds: float
    rollback_on: str
    variant: str | None
    runtime: str
    health_timeout_seconds: float
    canary_percent: float
    step_percent: float
    alarm_rule: AlarmRule = field(default_factory=AlarmRule)


def _refuse_if_running(session: Any, endpoint: str) -> None:
    running = running_deployment(session, endpoint)
    if running is not None:
        raise Conflict(
            f"deployment {running.id} is already rolling out on endpoint {endpoint!r}; "
            f"wait for it, or roll it back with `shipyard deploy --rollback {endpoint}`",
            field="endpoint",
        )


def check_loads(platform: Platform, version: t.ModelVersion, runtime: str, ref: str) -> None:
    """Load the version here, as a serving worker would (a code model's files are checked
    against its registered code instead, without running it); any failure names it."""
    from shipyard.edge import latest_export, load_export_predictor
    from shipyard.flavors import CODE_FLAVORS
    from shipyard.registry import check_version_code, load_version_predictor

    try:
        if runtime == "onnx":
            with platform.db.session() as session:
                export = latest_export(session, version.id, "onnx")
            if export is None:
                raise NotFound(f"{ref} has no ONNX export", field="runtime")
            load_export_predictor(platform, export)
        elif version.flavor in CODE_FLAVORS:  # the control plane runs no model code
            check_version_code(platform, version)
        else:
            load_version_predictor(platform, version)
    except ShipyardError as error:
        raise type(error)(f"{ref} failed to load: {error.message}", field="model") from None
    except Exception as error:
        raise JobFailed(
            f"{ref} failed to load: {type(error).__name__}: {error}", field="model"
        ) from None


def start(platform: Platform, principal: str, plan: RolloutPlan) -> DeploymentInfo:
    """Check everything, load the new version, then add it beside the old at weight 0."""
    alarm = parse_alarm(plan.rollback_on)
    with platform.db.session() as session:
        endpoint = find_endpoint(session, plan.endpoint)
        _refuse_if_running(session, plan.endpoint)
        production = state_of(session, endpoint).production
        model, version = resolve_model(session, plan.model, field="model")
        ref = f"{model.name}@{version.version}"
        check_approved(plan.endpoint, production, model, version, field="model")
        check_runtime(session, model, version, plan.runtime, field="runtime")
        name = check_variant_name(
            plan.variant or f"{model.name}-v{version.version}"[:50], field="variant"
        )
        for variant in variants_of(session, endpoint.id):
            if variant.model_version_id == version.id and variant.role == "production":
                raise Conflict(
                    f"endpoint {plan.endpoint!r} already serves {ref} as variant {variant.name!r}",
                    field="model",
                )
            if variant.name == name:
                raise Conflict(
                    f"endpoint {plan.endpoint!r} already has a variant {name!r}; "
                    "give the new one another name (--variant)",
                    field="variant",
                )
    spec = {
        "model": ref,
        "requested": plan.model,
        "model_version_id": version.id,
        "steps": plan.steps,
        "bake_seconds": plan.bake_seconds,
        "rollback_on": alarm.source,
        "runtime": plan.runtime,
        "health_timeout_seconds": plan.health_timeout_seconds,
        "canary_percent": plan.canary_percent,
        "step_percent": plan.step_percent,
        **plan.alarm_rule.spec(),
    }
    deployment_id = uuid.uuid4().hex
    try:
        check_loads(platform, version, plan.runtime, ref)
    except ShipyardError as error:
        _record_failed_start(platform, principal, plan, deployment_id, spec, str(error.message))
        raise
    with platform.db.session() as session:
        endpoint = find_endpoint(session, plan.endpoint)
        state = lock_endpoint(session, endpoint)
        _refuse_if_running(session, plan.endpoint)
        before = snapshot(session, endpoint.id)
        if any(v["name"] == name for v in before):
            raise Conflict(
                f"endpoint {plan.endpoint!r} already has a variant {name!r}", field="variant"
            )
        session.add(
            et.EndpointVariant(
                endpoint_id=endpoint.id,
                name=name,
                model_version_id=version.id,
                weight=0.0,
                runtime=plan.runtime,
            )
        )
        bump(session, endpoint, state)
        now = epoch_seconds()
        old = ", ".join(
            f"{v['name']} ({v['model_ref']})" for v in before if v["role"] == "production"
        )
        row = et.Deployment(
            id=deployment_id,
            endpoint=plan.endpoint,
            strategy=plan.strategy,
            spec={**spec, "target_generation": state.generation},
            status="running",
            from_variants=before,
            to_variant=name,
            step=-1,
            step_started_at=now,
            heartbeat_at=now,
            history=[
                event(
                    "started",
                    weights=production_weights(session, endpoint.id),
                    note=f"{ref} loaded; added as variant {name} at weight 0 beside {old}; "
                    f"waiting for serving workers to load generation {state.generation}",
                )
            ],
            created_by=principal,
        )
        session.add(row)
        session.flush()
        return deployment_info(session, row)


def _record_failed_start(
    platform: Platform,
    principal: str,
    plan: RolloutPlan,
    deployment_id: str,
    spec: dict[str, Any],
    reason: str,
) -> None:
    """A rollout whose model does not load ends before any traffic moves, on the record."""
    with platform.db.session() as session:
        endpoint = find_endpoint(session, plan.endpoint)
        row = et.Deployment(
            id=deployment_id,
            endpoint=plan.endpoint,
            strategy=plan.strategy,
            spec=spec,
            status="failed",
            from_variants=snapshot(session, endpoint.id),
            history=[],
            created_by=principal,
        )
        finish(
            row,
            "failed",
            reason,
            event("load_failed", weights=production_weights(session, endpoint.id), note=reason),
        )
        session.add(row)


def rollback(platform: Platform, principal: str, endpoint_name: str) -> DeploymentInfo:
    """Stop a running rollout and restore what it replaced; else undo the last finished one."""
    with platform.db.session() as session:
        endpoint = find_endpoint(session, endpoint_name)
        state = lock_endpoint(session, endpoint)
        running = running_deployment(session, endpoint_name)
        if running is not None:
            restore(session, endpoint, running.from_variants)
            bump(session, endpoint, state)
            finish(
                running,
                "rolled_back",
                f"rolled back by {principal}",
                event(
                    "rolled_back",
                    weights=production_weights(session, endpoint.id),
                    note=f"rolled back by {principal}; restored the variants from before",
                ),
            )
            session.flush()
            return deployment_info(session, running)
        last = session.scalar(
            sa.select(et.Deployment)
            .where(et.Deployment.endpoint == endpoint_name, et.Deployment.status == "succeeded")
            .order_by(et.Deployment.created_at.desc())
            .limit(1)
        )
        if last is None:
            raise Conflict(
                f"endpoint {endpoint_name!r} has no finished deployment to roll back to",
                field="endpoint",
            )
        for row in last.from_variants:
            version = session.get(t.ModelVersion, row["model_version_id"])
            assert version is not None
            model = session.get(t.Model, version.model_id)
            assert model is not None
            check_approved(endpoint_name, state.production, model, version, field="endpoint")
        current = snapshot(session, endpoint.id)
        restore(session, endpoint, last.from_variants)
        bump(session, endpoint, state)
        restored = ", ".join(f"{v['name']} ({v['model_ref']})" for v in last.from_variants)
        record = et.Deployment(
            id=uuid.uuid4().hex,
            endpoint=endpoint_name,
            strategy="rollback",
            spec={"rollback_of": last.id, "steps": [], "bake_seconds": 0.0, "rollback_on": ""},
            status="running",
            from_variants=current,
            history=[],
            created_by=principal,
        )
        finish(
            record,
            "succeeded",
            f"rolled back deployment {last.id}",
            event(
                "rolled_back",
                weights=production_weights(session, endpoint.id),
                note=f"restored {restored} from before deployment {last.id}",
            ),
        )
        session.add(record)
        session.flush()
        return deployment_info(session, record)


def resume(
    platform: Platform, principal: str, deployment_id: str, *, force: bool = False
) -> DeploymentInfo:
    """Take over a running rollout whose controller stopped ticking (or, with force, any)."""
    with platform.db.session() as session:
        row = find_deployment(session, deployment_id)
        if row.status != "running":
            raise Conflict(
                f"deployment {deployment_id} is {row.status}; there is nothing to resume",
                field="deployment_id",
            )
        idle = epoch_seconds() - row.heartbeat_at
        if idle < STALE_SECONDS and not force:
            raise Conflict(
                f"deployment {deployment_id} is being driven (last tick {idle:.1f} s ago); "
                "take it over with force",
                field="deployment_id",
            )
        row.heartbeat_at = epoch_seconds()
        append(row, event("resumed", note=f"resumed by {principal} after {idle:.0f} s idle"))
        session.flush()
        return deployment_info(session, row)


def note_controller_exit(platform: Platform, deployment_id: str, code: int) -> None:
    """A worker that exits while its rollout still runs leaves a resumable deployment."""
    with platform.db.session() as session:
        row = session.get(et.Deployment, deployment_id)
        if row is not None and row.status == "running":
            append(
                row,
                event(
                    "controller_exited",
                    note=f"controller process exited with code {code}; resume with "
                    f"`shipyard deployments resume {deployment_id}`",
                ),
            )
            row.heartbeat_at = min(row.heartbeat_at, epoch_seconds() - STALE_SECONDS)
