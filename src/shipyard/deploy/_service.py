"""Deployment operations: start, tick, inspect, resume and roll back guarded rollouts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.deploy._controller import advance, deployment_info, find_deployment
from shipyard.deploy._judge import MIN_REQUESTS, check_rule
from shipyard.deploy._plan import Strategy, traffic_steps
from shipyard.deploy._rollout import RolloutPlan, note_controller_exit, resume, rollback, start
from shipyard.endpoints import Runtime
from shipyard.errors import InvalidInput
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.registry import model_version_access
from shipyard.schemas.deploy import DeploymentInfo
from shipyard.schemas.durations import parse_duration
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import endpoint_tables as et

WORKER_MODULE = "shipyard.deploy._worker"


def _deployment_resource(session: Session, deployment_id: str) -> ResourceName:
    """``sy:deployment/<endpoint>/<id>`` (also ``sy:deployment/<id>``): scoped by endpoint."""
    endpoint = session.scalar(
        sa.select(et.Deployment.endpoint).where(et.Deployment.id == deployment_id)
    )
    return ResourceName.scoped("deployment", endpoint, deployment_id)


def _launch(platform: Platform, deployment_id: str) -> None:
    from shipyard.jobs._launcher import launch_worker

    launch_worker(
        WORKER_MODULE,
        deployment_id,
        platform.settings,
        platform.settings.jobs_dir / f"deployment-{deployment_id}.log",
        lambda code: note_controller_exit(platform, deployment_id, code),
    )


@operation(
    "deploy:CreateDeployment",
    lambda endpoint: resource("endpoint", endpoint),
    uses=lambda session, model: [model_version_access(session, model, field="model")],
    mutating=True,
)
def create_deployment(
    ctx: RequestContext,
    endpoint: str,
    model: str,
    strategy: Strategy = "canary",
    canary_percent: float = 10.0,
    step_percent: float = 25.0,
    bake: float | str = "60s",
    rollback_on: str = "",
    variant: str | None = None,
    runtime: Runtime = "native",
    health_timeout: float | str = "60s",
    background: bool = True,
    min_requests: int = MIN_REQUESTS,
    alarm_periods: int = 1,
    alarm_datapoints: int | None = None,
    alarm_period: float | str = "10s",
    alarm_missing: str = "not_breaching",
) -> DeploymentInfo:
    """Roll ``model`` out onto an endpoint beside the old version, in baked, alarmed steps.

    The alarm follows the rules every alarm does: it judges error rates and latencies
    only on datapoints of at least ``min_requests`` requests (default 50), and rolls
    back when ``alarm_datapoints`` of the last ``alarm_periods`` datapoints trip (default
    1 of 1: the whole step so far; see ``deploy._judge``).

    The version must load here first; nothing moves if it does not. With
    ``background`` a worker process drives the rollout; otherwise the caller
    ticks it with ``advance`` until it is done.
    """
    check_name(endpoint, field="endpoint")
    from shipyard.evaluation import gate_deployment  # here: evaluation imports the registry

    gate_deployment(ctx, [model])
    plan = RolloutPlan(
        endpoint=endpoint,
        model=model,
        strategy=strategy,
        steps=traffic_steps(strategy, canary_percent, step_percent),
        bake_seconds=parse_duration(bake, field="bake"),
        rollback_on=rollback_on,
        variant=variant,
        runtime=runtime,
        health_timeout_seconds=parse_duration(health_timeout, field="health_timeout"),
        canary_percent=canary_percent,
        step_percent=step_percent,
        alarm_rule=check_rule(
            min_requests,
            alarm_periods,
            alarm_datapoints,
            parse_duration(alarm_period, field="alarm_period"),
            alarm_missing,
        ),
    )
    info = start(ctx.platform, ctx.principal, plan)
    if background:
        _launch(ctx.platform, info.id)
    return info


@operation("deploy:DriveDeployment", _deployment_resource, mutating=False)
def advance_deployment(ctx: RequestContext, deployment_id: str) -> DeploymentInfo:
    """One controller tick: check alarms on the live metrics, then move on or roll back."""
    return advance(ctx.platform, deployment_id)


def _deployed_model(session: Session, deployment_id: str) -> list[Access]:
    """Resuming a rollout serves its model version again: reading that version."""
    row = session.get(et.Deployment, deployment_id)
    model = row.spec.get("model") if row is not None else None
    if not isinstance(model, str):
        return []
    return [model_version_access(session, model, field="deployment_id")]


@operation("deploy:DriveDeployment", _deployment_resource, uses=_deployed_model, mutating=True)
def resume_deployment(
    ctx: RequestContext, deployment_id: str, background: bool = True, force: bool = False
) -> DeploymentInfo:
    """Take over a running rollout whose controller stopped (crashed, or its caller quit)."""
    info = resume(ctx.platform, ctx.principal, deployment_id, force=force)
    if background:
        _launch(ctx.platform, deployment_id)
    return info


@operation("deploy:DescribeDeployment", _deployment_resource, mutating=False)
def get_deployment(ctx: RequestContext, deployment_id: str) -> DeploymentInfo:
    """A rollout with its plan, every step and its metrics, and where it is now."""
    with ctx.platform.db.session() as session:
        return deployment_info(session, find_deployment(session, deployment_id))


@operation("deploy:ListDeployments", lambda: resource("deployment"), mutating=False)
def list_deployments(
    ctx: RequestContext, endpoint: str | None = None, limit: int = 50
) -> list[DeploymentInfo]:
    """Rollouts, newest first, optionally of one endpoint."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    query = sa.select(et.Deployment).order_by(et.Deployment.created_at.desc()).limit(limit)
    if endpoint is not None:
        query = query.where(et.Deployment.endpoint == endpoint)
    with ctx.platform.db.session() as session:
        return [deployment_info(session, row) for row in session.scalars(query)]


@operation(
    "deploy:RollbackDeployment", lambda endpoint: resource("endpoint", endpoint), mutating=True
)
def rollback_endpoint(ctx: RequestContext, endpoint: str) -> DeploymentInfo:
    """Back to the previous configuration at once: stop a running rollout, or undo the last."""
    return rollback(ctx.platform, ctx.principal, endpoint)
