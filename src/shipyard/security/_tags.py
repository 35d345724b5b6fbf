"""Reading the tags that conditions test: a principal's, and a resource's under its names."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.store.metadata import Database
from shipyard.store.metadata import tag_tables as tt


def principal_tags(session: Session, principal_id: int) -> dict[str, str]:
    rows = session.execute(
        sa.select(tt.PrincipalTag.key, tt.PrincipalTag.value).where(
            tt.PrincipalTag.principal_id == principal_id
        )
    )
    return {key: value for key, value in rows}


def resource_tags(db: Database, names: Sequence[str]) -> dict[str, str]:
    """The tags of a resource known by ``names``; the most specific name's win (a version's
    tags over its model's)."""
    with db.session() as session:
        rows = session.execute(
            sa.select(tt.ResourceTag.resource, tt.ResourceTag.key, tt.ResourceTag.value).where(
                tt.ResourceTag.resource.in_(list(names))
            )
        ).all()
    found: dict[str, str] = {}
    for name in reversed(names):
        found.update({key: value for resource, key, value in rows if resource == name})
    return found
