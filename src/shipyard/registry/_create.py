"""Creating a model with no versions yet (versions come from ``register_model``), and
changing a model's own settings."""

from __future__ import annotations

import sqlalchemy as sa

from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.registry._service import get_model_info
from shipyard.schemas.registry import ModelInfo
from shipyard.security import (
    RequestContext,
    check_tags,
    operation,
    request_tag_keys,
    set_resource_tags,
    tag_on_create,
)
from shipyard.store.metadata import tables as t


@operation(
    "registry:RegisterModel",
    lambda name: resource("model", name),
    uses=tag_on_create("registry", "model"),
    context=request_tag_keys,
    mutating=True,
)
def create_model(ctx: RequestContext, name: str, tags: dict[str, str] | None = None) -> ModelInfo:
    """Create the model ``name`` empty, as MLflow's "create registered model" does; the
    right to register versions of a model includes creating it. With ``tags`` it needs
    ``registry:TagResource`` too, and policies see them as ``sy:RequestTag/<key>``."""
    check_name(name)
    given = check_tags(tags) if tags else {}
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Model.id).where(t.Model.name == name)) is not None:
            raise Conflict(f"model {name!r} already exists", field="name")
        row = t.Model(name=name)
        session.add(row)
        session.flush()
        if given:
            set_resource_tags(session, resource("model", name), given)
        return ModelInfo(name=row.name, created_at=row.created_at, latest_version=None, aliases={})


@operation("registry:UpdateModel", lambda name: resource("model", name), mutating=True)
def update_model(ctx: RequestContext, name: str, four_eyes: bool | None = None) -> ModelInfo:
    """Change a model's settings; ``four_eyes``: approving a version needs a principal
    other than whoever registered it, trained its run or registered its code."""
    if four_eyes is not None and not isinstance(four_eyes, bool):
        raise InvalidInput("must be true or false", field="four_eyes")
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(t.Model).where(t.Model.name == name))
        if row is None:
            raise NotFound(f"model {name!r} does not exist", field="name")
        if four_eyes is not None:
            row.four_eyes = four_eyes
        session.flush()
        return get_model_info(session, row)
