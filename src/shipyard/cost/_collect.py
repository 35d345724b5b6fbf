"""What each job and endpoint used in a period, as the resources a principal may describe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.cost._prices import Usage, gb_hours
from shipyard.names import resource
from shipyard.security import ResourceName
from shipyard.store.metadata import cost_tables as ct
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

DESCRIBE_JOB: dict[str, str] = {
    "training-job": "training:DescribeTrainingJob",
    "tuning-job": "tuning:DescribeTuningJob",
    "automl-job": "automl:DescribeAutoMLJob",
    "batch-job": "batch:DescribeBatchTransformJob",
}
"""The action that lets a principal see a job (and so its cost), by resource kind."""
DESCRIBE_ENDPOINT = "endpoints:DescribeEndpoint"
FALLBACK_ACTION = "cost:GetCostReport"
"""A job of a kind not listed above is seen by whoever may get the cost of it by name."""

Visible = Callable[[str, ResourceName], bool]


@dataclass(frozen=True)
class Item:
    """One resource's use in the period: a job (``job_id``) or an endpoint; ``pipeline``
    names the pipeline whose run it is or whose step started it."""

    resource: str
    principal: str
    job_id: str | None
    usage: Usage
    pipeline: str | None = None


def _resource_kind(kind: str) -> str:
    from shipyard.jobs import KINDS

    found = KINDS.get(kind)
    return found.resource_kind if found is not None else f"{kind.replace('_', '-')}-job"


def job_items(session: Session, since: datetime, until: datetime, visible: Visible) -> list[Item]:
    """Jobs that ended in the period (running ones that started in it, with what they have
    recorded so far), each counted whole: its CPU seconds, its peak memory for its wall time."""
    when = sa.func.coalesce(j.Job.ended_at, j.Job.started_at)
    rows = session.execute(
        sa.select(j.Job.id, j.Job.kind, j.Job.scope, j.Job.created_by, j.Job.resources).where(
            when >= since, when <= until
        )
    ).all()
    found = []
    for job_id, kind, scope, principal, record in rows:
        kind_name = _resource_kind(kind)
        name = job_resource(kind, scope, job_id)
        if not visible(DESCRIBE_JOB.get(kind_name, FALLBACK_ACTION), name):
            continue
        found.append(Item(name.name, principal, job_id, record_usage(record, name.name)))
    return found


def job_resource(kind: str, scope: str, job_id: str) -> ResourceName:
    """``sy:<kind>-job/<scope>/<id>`` (``sy:pipeline-run/...`` for a pipeline run)."""
    return ResourceName.scoped(_resource_kind(kind), scope, job_id)


def record_usage(record: dict[str, Any] | None, name: str) -> Usage:
    """A job's resource record as use: its CPU seconds, its peak memory for its wall time."""
    record = record or {}
    wall = float(record.get("wall_seconds", 0.0) or 0.0)
    return Usage(
        wall_seconds=wall,
        cpu_seconds=float(record.get("cpu_seconds", 0.0) or 0.0),
        gb_hours=gb_hours(float(record.get("peak_memory_mb", 0.0) or 0.0), wall),
        resources={name},
    )


def endpoint_items(
    session: Session, since: datetime, until: datetime, visible: Visible
) -> list[Item]:
    """Endpoints by their workers' samples in the period: CPU seconds spent, and each
    sampled memory held for its interval. The principal is the endpoint's creator."""
    sample = ct.EndpointUsageSample
    rows = session.execute(
        sa.select(
            sample.endpoint,
            sa.func.sum(sample.interval_seconds),
            sa.func.sum(sample.cpu_seconds),
            sa.func.sum(sample.memory_mb * sample.interval_seconds),
            sa.func.count(sa.distinct(sample.worker)),
        )
        .where(sample.time >= since, sample.time <= until)
        .group_by(sample.endpoint)
    ).all()
    creators = dict(
        session.execute(
            sa.select(t.Endpoint.name, t.Endpoint.created_by).where(
                t.Endpoint.name.in_([r[0] for r in rows])
            )
        ).all()
    )
    found = []
    for endpoint, interval, cpu, mb_seconds, _workers in rows:
        name = ResourceName.of(resource("endpoint", endpoint))
        if not visible(DESCRIBE_ENDPOINT, name):
            continue
        usage = Usage(
            wall_seconds=float(interval or 0.0),
            cpu_seconds=float(cpu or 0.0),
            gb_hours=gb_hours(float(mb_seconds or 0.0), 1.0),
            resources={name.name},
        )
        found.append(Item(name.name, creators.get(endpoint, "(deleted endpoint)"), None, usage))
    return found
