"""Deleting an endpoint's captured requests, all of them or those before a time.

Captures are stored as one Parquet blob per endpoint and hour; deleting removes the rows
that list them and purges the blobs. ``before`` deletes whole hours that ended by then
(an hour that straddles ``before`` is kept), so the result never half-covers a file.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.datasets import check_reason, purge_unused
from shipyard.names import resource
from shipyard.schemas.datasets import DeletionInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables


def hour_key(when: datetime) -> str:
    """The capture partition ``YYYY-MM-DDTHH`` (UTC) holding ``when``."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H")


@operation(
    "endpoints:DeleteCapture",
    lambda name: resource("endpoint", name),
    mutating=True,
    audit=lambda before, reason: {
        "before": before.isoformat() if isinstance(before, datetime) else before,
        "reason": reason,
    },
)
def delete_captures(
    ctx: RequestContext, name: str, before: datetime | None = None, reason: str = ""
) -> DeletionInfo:
    """Delete the captured requests of endpoint ``name`` (those of hours before ``before``)."""
    reason = check_reason(reason)
    deleted_at = utcnow()
    files = endpoint_tables.CaptureFile
    with ctx.platform.db.session() as session:
        query = sa.select(files).where(files.endpoint == name)
        if before is not None:
            query = query.where(files.hour < hour_key(before))
        rows = session.scalars(query.order_by(files.hour)).all()
        digests = [row.digest for row in rows]
        hours = sorted({row.hour for row in rows})
        for row in rows:
            session.delete(row)
        session.flush()
    purged, kept = purge_unused(ctx.platform, digests)
    return DeletionInfo(
        resource_name=resource("endpoint", name),
        deleted=[f"capture {name} {hour}" for hour in hours],
        purged_blobs=purged,
        kept_blobs=kept,
        deleted_by=ctx.principal,
        deleted_at=deleted_at,
        reason=reason,
    )
