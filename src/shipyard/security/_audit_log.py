"""Reading the audit trail (writing it is ``_audit.record_event``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from shipyard.errors import InvalidInput
from shipyard.names import resource
from shipyard.schemas.security import AuditEventInfo
from shipyard.security._context import RequestContext
from shipyard.security._operation import operation
from shipyard.store.metadata import tables as t


@operation("audit:ListEvents", lambda: resource("audit"), mutating=False)
def list_audit_events(
    ctx: RequestContext,
    principal: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    resource_prefix: str | None = None,
    outcome: str | None = None,
    before_id: int | None = None,
) -> list[AuditEventInfo]:
    """The newest events first, optionally filtered by principal, action, time, resource
    (names starting with ``resource_prefix``) and outcome; ``before_id`` pages on: pass the
    last id of a page to get the next one (a seek on the primary key, fast however deep)."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="limit")
    query = sa.select(t.AuditEvent).order_by(t.AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(t.AuditEvent.id < before_id)
    if resource_prefix:
        escaped = resource_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(t.AuditEvent.resource.like(escaped + "%", escape="\\"))
    if outcome:
        query = query.where(t.AuditEvent.outcome == outcome)
    if principal:
        query = query.where(t.AuditEvent.principal == principal)
    if action:
        query = query.where(sa.func.lower(t.AuditEvent.action) == action.lower())
    if since:
        query = query.where(t.AuditEvent.time >= since)
    with ctx.platform.db.session() as session:
        return [
            AuditEventInfo(
                id=e.id,
                time=e.time,
                principal=e.principal,
                action=e.action,
                resource=e.resource,
                outcome=e.outcome,
                request_id=e.request_id,
                detail=e.detail,
            )
            for e in session.scalars(query)
        ]
