"""The append-only audit trail: who did what to which resource, when, and how it ended."""

from __future__ import annotations

from typing import Any

from shipyard.store.metadata import Database, tables


def record_event(
    db: Database,
    *,
    principal: str,
    action: str,
    resource: str,
    outcome: str,
    request_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event in its own transaction, so it survives the failure it describes."""
    with db.session() as session:
        session.add(
            tables.AuditEvent(
                principal=principal,
                action=action,
                resource=resource,
                outcome=outcome,
                request_id=request_id,
                detail=detail or {},
            )
        )
