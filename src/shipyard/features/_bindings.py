"""Endpoint feature bindings: which online features an endpoint adds to its requests."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import InvalidInput, NotFound
from shipyard.features._access import online_read_accesses
from shipyard.features._views import find_view, spec_of
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.features import EndpointFeatures, FeatureSource
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import feature_tables as ft
from shipyard.store.metadata import tables as t


def _endpoint_resource(endpoint: str) -> str:
    return resource("endpoint", endpoint)


def _endpoint_row(session: Session, endpoint: str) -> t.Endpoint:
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == endpoint))
    if row is None:
        raise NotFound(f"endpoint {endpoint!r} does not exist", field="endpoint")
    return row


def _signature_inputs(session: Session, row: t.Endpoint) -> list[str] | None:
    """The inputs of every model the endpoint serves (all variants, shadows included)."""
    version_ids = {row.model_version_id}
    version_ids.update(
        session.scalars(
            sa.select(et.EndpointVariant.model_version_id).where(
                et.EndpointVariant.endpoint_id == row.id
            )
        )
    )
    names: list[str] = []
    for signature in session.scalars(
        sa.select(t.ModelVersion.signature).where(t.ModelVersion.id.in_(version_ids))
    ):
        inputs = (signature or {}).get("inputs")
        if not isinstance(inputs, list):
            return None
        names.extend(str(c["name"]) for c in inputs if str(c["name"]) not in names)
    return names


def _reload_serving(session: Session, row: t.Endpoint) -> None:
    """Raise the endpoint's generation so serving workers reload and rebuild their enricher."""
    state = et.EndpointState
    now = utcnow()
    result = session.execute(
        sa.update(state)
        .where(state.endpoint_id == row.id)
        .values(generation=state.generation + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast("sa.CursorResult[Any]", result).rowcount == 0:
        session.add(state(endpoint_id=row.id, generation=2, capture={}, batching={}, bandit={}))
    row.updated_at = now


def _resolve(session: Session, index: int, source: FeatureSource) -> FeatureSource:
    field = f"sources[{index}]"
    _, row = find_view(session, source.view)
    spec = spec_of(row)
    for feature in source.features:
        if feature not in spec.features:
            raise InvalidInput(
                f"view {source.view!r} has no feature {feature!r} (it has {spec.features})",
                field=f"{field}.features",
            )
    for column in source.entities:
        if column not in spec.entities:
            raise InvalidInput(
                f"{column!r} is not an entity key of view {source.view!r} ({spec.entities})",
                field=f"{field}.entities",
            )
    return source.model_copy(
        update={
            "entities": {k: source.entities.get(k, k) for k in spec.entities},
            "keys": list(spec.entities),
            "key_types": {
                k: "integer" if row.columns.get(k) == "integer" else "string" for k in spec.entities
            },
        }
    )


def _info(row: ft.EndpointFeatureBinding) -> EndpointFeatures:
    return EndpointFeatures.model_validate(
        {**row.config, "created_by": row.created_by, "updated_at": row.updated_at}
    )


@operation(
    "features:PutEndpointFeatures",
    _endpoint_resource,
    uses=lambda session, sources: online_read_accesses(session, [s.view for s in sources]),
    mutating=True,
)
def put_endpoint_features(
    ctx: RequestContext,
    endpoint: str,
    sources: list[FeatureSource],
    keep_entity_keys: bool = False,
) -> EndpointFeatures:
    """Bind online features to the inputs of an endpoint's model (replacing any binding).

    Each bound input must be an input of a model the endpoint serves; request fields named
    after a view's entity keys carry the keys (or the fields ``entities`` maps them to).
    Serving workers pick the change up live: the endpoint's generation is raised.
    """
    check_name(endpoint, field="endpoint")
    if not sources:
        raise InvalidInput("bind at least one view's features", field="sources")
    with ctx.platform.db.session() as session:
        endpoint_row = _endpoint_row(session, endpoint)
        inputs = _signature_inputs(session, endpoint_row)
        resolved = []
        for index, source in enumerate(sources):
            resolved.append(_resolve(session, index, source))
        bound = [name for source in resolved for name in source.features.values()]
        repeated = sorted({n for n in bound if bound.count(n) > 1})
        if repeated:
            raise InvalidInput(f"inputs {repeated} are bound more than once", field="sources")
        if inputs is not None:
            unknown = [n for n in bound if n not in inputs]
            if unknown:
                raise InvalidInput(
                    f"inputs {unknown} are not inputs of the endpoint's model ({inputs})",
                    field="sources",
                )
        config = EndpointFeatures(
            endpoint=endpoint, sources=resolved, keep_entity_keys=keep_entity_keys
        ).model_dump(mode="json", include={"endpoint", "sources", "keep_entity_keys"})
        row = session.scalar(
            sa.select(ft.EndpointFeatureBinding).where(
                ft.EndpointFeatureBinding.endpoint == endpoint
            )
        )
        if row is None:
            row = ft.EndpointFeatureBinding(
                endpoint=endpoint, config=config, created_by=ctx.principal
            )
            session.add(row)
        else:
            row.config, row.created_by, row.updated_at = config, ctx.principal, utcnow()
        _reload_serving(session, endpoint_row)
        session.flush()
        return _info(row)


@operation("features:GetEndpointFeatures", _endpoint_resource, mutating=False)
def get_endpoint_features(ctx: RequestContext, endpoint: str) -> EndpointFeatures:
    """The online features bound to an endpoint."""
    found = load_endpoint_features(ctx.platform, endpoint)
    if found is None:
        raise NotFound(f"endpoint {endpoint!r} has no feature binding", field="endpoint")
    return found


@operation("features:DeleteEndpointFeatures", _endpoint_resource, mutating=True)
def delete_endpoint_features(ctx: RequestContext, endpoint: str) -> EndpointFeatures:
    """Remove an endpoint's feature binding."""
    with ctx.platform.db.session() as session:
        row = session.scalar(
            sa.select(ft.EndpointFeatureBinding).where(
                ft.EndpointFeatureBinding.endpoint == endpoint
            )
        )
        if row is None:
            raise NotFound(f"endpoint {endpoint!r} has no feature binding", field="endpoint")
        info = _info(row)
        session.delete(row)
        endpoint_row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == endpoint))
        if endpoint_row is not None:
            _reload_serving(session, endpoint_row)
        return info


def load_endpoint_features(platform: Platform, endpoint: str) -> EndpointFeatures | None:
    """The binding of ``endpoint``, or None when it has none."""
    with platform.db.session() as session:
        return binding_of(session, endpoint)


def binding_of(session: Session, endpoint: str) -> EndpointFeatures | None:
    """The binding of ``endpoint`` read in ``session`` (a serving worker's reload reads it so)."""
    row = session.scalar(
        sa.select(ft.EndpointFeatureBinding).where(ft.EndpointFeatureBinding.endpoint == endpoint)
    )
    return None if row is None else _info(row)
