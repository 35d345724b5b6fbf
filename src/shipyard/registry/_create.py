"""Creating a model with no versions yet (versions come from ``register_model``)."""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import Conflict
from shipyard.names import check_name, resource
from shipyard.schemas.registry import ModelInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t


@operation("registry:RegisterModel", lambda name: resource("model", name), mutating=True)
def create_model(ctx: RequestContext, name: str) -> ModelInfo:
    """Create the model ``name`` empty, as MLflow's "create registered model" does; the
    right to register versions of a model includes creating it."""
    check_name(name)
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Model.id).where(t.Model.name == name)) is not None:
            raise Conflict(f"model {name!r} already exists", field="name")
        row = t.Model(name=name)
        session.add(row)
        session.flush()
        return ModelInfo(name=row.name, created_at=row.created_at, latest_version=None, aliases={})
