"""Describing an endpoint: variants with their traffic shares, live settings, serving workers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import epoch_seconds
from shipyard.endpoints._variants import running_deployment, state_of, variants_of
from shipyard.schemas.endpoints import EndpointInfo, InstanceInfo, VariantInfo
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t

INSTANCE_LIVE_SECONDS = 10.0


def endpoint_info(session: Session, row: t.Endpoint) -> EndpointInfo:
    """Everything about an endpoint: variants with their shares, settings, serving workers."""
    state = state_of(session, row)
    rows = variants_of(session, row.id)
    ids = {v.model_version_id for v in rows} | {row.model_version_id}
    versions = {
        vid: (name, version, approval)
        for vid, name, version, approval in session.execute(
            sa.select(
                t.ModelVersion.id, t.Model.name, t.ModelVersion.version, t.ModelVersion.approval
            )
            .join(t.Model, t.Model.id == t.ModelVersion.model_id)
            .where(t.ModelVersion.id.in_(ids))
        )
    }
    total = sum(v.weight for v in rows if v.role == "production")
    variants = [
        VariantInfo(
            name=v.name,
            model=versions[v.model_version_id][0],
            model_version=versions[v.model_version_id][1],
            approval=versions[v.model_version_id][2],
            role=v.role,
            weight=v.weight,
            traffic_percent=100 * v.weight / total if v.role == "production" and total else 0.0,
            shadow_percent=v.shadow_percent,
            runtime=v.runtime,
            created_at=v.created_at,
        )
        for v in rows
    ]
    now = epoch_seconds()
    instances = [
        InstanceInfo(
            worker=i.worker,
            generation=i.generation,
            variants=[str(n) for n in i.variants],
            live=now - i.heartbeat_at <= INSTANCE_LIVE_SECONDS,
            seconds_since_heartbeat=round(max(now - i.heartbeat_at, 0.0), 3),
            failed_generation=i.failed_generation,
            error=i.error,
            url=i.url,
        )
        for i in session.scalars(
            sa.select(et.EndpointInstance)
            .where(et.EndpointInstance.endpoint == row.name)
            .order_by(et.EndpointInstance.worker)
        )
    ]
    running = running_deployment(session, row.name)
    model, version, _ = versions[row.model_version_id]
    return EndpointInfo(
        name=row.name,
        model_ref=row.model_ref,
        model=model,
        model_version=version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        generation=state.generation,
        production=state.production,
        variants=variants,
        capture=state.capture,
        batching=state.batching,
        bandit=state.bandit,
        deployment=running.id if running else None,
        instances=instances,
    )
