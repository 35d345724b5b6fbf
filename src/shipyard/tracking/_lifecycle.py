"""Deleting a run softly and restoring it: a deleted run keeps everything it logged, is
left out of run lists unless asked for, and comes back as it was when restored."""

from __future__ import annotations

from shipyard.clock import utcnow
from shipyard.schemas.tracking import RunInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._read import run_info
from shipyard.tracking._rows import run_resource, run_row


@operation("tracking:DeleteRun", run_resource, mutating=True)
def delete_run(ctx: RequestContext, run_id: str) -> RunInfo:
    """Mark a run deleted (again is a no-op); nothing it logged is removed."""
    with ctx.platform.db.session() as session:
        row: t.Run = run_row(session, run_id)
        if row.deleted_at is None:
            row.deleted_at = utcnow()
        return run_info(session, row)


@operation("tracking:RestoreRun", run_resource, mutating=True)
def restore_run(ctx: RequestContext, run_id: str) -> RunInfo:
    """Bring a deleted run back into run lists (a run not deleted is left as it is)."""
    with ctx.platform.db.session() as session:
        row: t.Run = run_row(session, run_id)
        row.deleted_at = None
        return run_info(session, row)
