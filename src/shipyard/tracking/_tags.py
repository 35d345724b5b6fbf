"""Removing a tag from a run (setting one is part of ``log_batch``)."""

from __future__ import annotations

from shipyard.errors import NotFound
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t
from shipyard.tracking._rows import run_resource


@operation("tracking:LogBatch", run_resource, mutating=True)
def delete_tag(ctx: RequestContext, run_id: str, key: str) -> None:
    """Delete tag ``key`` of a run; like setting one, it needs the right to log to the run."""
    with ctx.platform.db.session() as session:
        if session.get(t.Run, run_id) is None:
            raise NotFound(f"run {run_id!r} does not exist", field="run_id")
        row = session.get(t.RunTag, (run_id, key))
        if row is None:
            raise NotFound(f"run {run_id} has no tag {key!r}", field="key")
        session.delete(row)
