"""Deleting a model version, or a whole model: a tombstone stays in lineage.

The version row is kept (its run, endpoints' history and child runs reference it) with
who deleted it, when and why; its aliases go. Its artifact blob is purged unless
something live still names it: a version registered from a run shares the run's artifact,
which stays until the run's artifacts go. A version an endpoint serves (as its model or a
variant) is refused with 409 naming the endpoint: there is no force, since the serving
workers would fail on their next load.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.datasets import check_reason, purge_unused
from shipyard.errors import Conflict
from shipyard.schemas.datasets import DeletionInfo
from shipyard.security import RequestContext, ResourceName, operation
from shipyard.store.metadata import MODELS, endpoint_tables, live_versions
from shipyard.store.metadata import tables as t


def _resource(name: str, version: int | None = None) -> ResourceName:
    return ResourceName.versioned("model", name, version)


@operation(
    "registry:DeleteModelVersion",
    _resource,
    mutating=True,
    audit=lambda reason: {"reason": reason},
)
def delete_version(
    ctx: RequestContext, name: str, version: int | None = None, reason: str = ""
) -> DeletionInfo:
    """Delete version ``version`` of model ``name``, or all its versions when None."""
    reason = check_reason(reason)
    now = utcnow()
    with ctx.platform.db.session() as session:
        doomed = live_versions(session, MODELS, name, version)
        ids = [row.id for row in doomed]
        _refuse_if_served(session, name, ids)
        session.execute(sa.delete(t.ModelAlias).where(t.ModelAlias.model_version_id.in_(ids)))
        digests = []
        for row in doomed:
            digests.append(row.digest)
            if row.code_digest is not None:
                digests.append(row.code_digest)
            row.deleted_at, row.deleted_by, row.deleted_reason = now, ctx.principal, reason
        session.flush()
        deleted = [f"{name}@{row.version}" for row in doomed]
    purged, kept = purge_unused(ctx.platform, digests)
    return DeletionInfo(
        resource_name=_resource(name, version).name,
        deleted=deleted,
        purged_blobs=purged,
        kept_blobs=kept,
        deleted_by=ctx.principal,
        deleted_at=now,
        reason=reason,
    )


def _refuse_if_served(session: Session, name: str, version_ids: list[int]) -> None:
    et = endpoint_tables
    served = session.execute(
        sa.select(t.Endpoint.name, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.id == t.Endpoint.model_version_id)
        .where(t.Endpoint.model_version_id.in_(version_ids))
        .limit(1)
    ).first()
    if served is None:
        served = session.execute(
            sa.select(t.Endpoint.name, t.ModelVersion.version)
            .join(et.EndpointVariant, et.EndpointVariant.endpoint_id == t.Endpoint.id)
            .join(t.ModelVersion, t.ModelVersion.id == et.EndpointVariant.model_version_id)
            .where(et.EndpointVariant.model_version_id.in_(version_ids))
            .limit(1)
        ).first()
    if served is not None:
        endpoint, number = served
        raise Conflict(
            f"endpoint {endpoint!r} serves {name}@{number}; point it at another version "
            "or delete it first",
            field="version",
        )
