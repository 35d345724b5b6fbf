"""The security generation: one counter every change to keys, principals or policies bumps.

Serving workers (any number, on any host sharing the database) poll it several
times a second with one tiny query and reload their keys and policies when it
moves, so a revoked key, a detached or replaced policy or a disabled principal
stops working everywhere within a second, without a database read per request.
A change to who may do what must call ``bump_generation`` in its own transaction.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.store.metadata import tables as t

_ROW = 1


def bump_generation(session: Session) -> None:
    """Move the generation on, in the caller's transaction (so it commits with the change)."""
    result = session.execute(
        sa.update(t.SecurityState)
        .where(t.SecurityState.id == _ROW)
        .values(generation=t.SecurityState.generation + 1)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount == 0:
        session.execute(sa.insert(t.SecurityState).values(id=_ROW, generation=1))


def current_generation(session: Session) -> int:
    """The generation now (0 before any change was recorded)."""
    found = session.scalar(sa.select(t.SecurityState.generation).where(t.SecurityState.id == _ROW))
    return int(found or 0)
