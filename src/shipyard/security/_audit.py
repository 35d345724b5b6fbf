"""The append-only audit trail: who did what to which resource, when, and how it ended."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
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
        add_event(
            session,
            principal=principal,
            action=action,
            resource=resource,
            outcome=outcome,
            request_id=request_id,
            detail=detail,
        )


def add_event(
    session: Session,
    *,
    principal: str,
    action: str,
    resource: str,
    outcome: str,
    request_id: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction: it is stored exactly when the change is."""
    session.add(
        tables.AuditEvent(
            principal=principal[:100],
            action=action[:100],
            resource=resource[:300],
            outcome=outcome[:20],
            request_id=request_id[:64],
            detail=detail or {},
        )
    )


def record_events(db: Database, events: Iterable[Mapping[str, Any]]) -> None:
    """Append a batch of events (``record_event``'s keyword arguments, and optionally the
    ``time`` each happened) in one transaction."""
    rows = [
        {
            "principal": e["principal"][:100],
            "action": e["action"][:100],
            "resource": e["resource"][:300],
            "outcome": e["outcome"][:20],
            "request_id": e["request_id"][:64],
            "detail": e.get("detail") or {},
            "time": e.get("time") or utcnow(),
        }
        for e in events
    ]
    if rows:
        with db.session() as session:
            session.execute(sa.insert(tables.AuditEvent), rows)
