"""Endpoints: which model version a real-time service answers with."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.endpoints._models import EndpointInfo
from shipyard.errors import Conflict, NotFound
from shipyard.names import check_name, parse_reference, resource
from shipyard.registry import resolve
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import tables as t


def _endpoint_resource(name: str) -> str:
    return resource("endpoint", name)


def find_endpoint(session: Session, name: str) -> t.Endpoint:
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == name))
    if row is None:
        raise NotFound(f"endpoint {name!r} does not exist", field="endpoint")
    return row


def endpoint_info(session: Session, row: t.Endpoint) -> EndpointInfo:
    model, version = session.execute(
        sa.select(t.Model.name, t.ModelVersion.version)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ModelVersion.id == row.model_version_id)
    ).one()
    return EndpointInfo(
        name=row.name,
        model_ref=row.model_ref,
        model=model,
        model_version=version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@operation("endpoints:CreateEndpoint", _endpoint_resource, mutating=True)
def create_endpoint(ctx: RequestContext, name: str, model: str) -> EndpointInfo:
    """Create an endpoint serving ``model`` (``name@version`` or ``name@alias``, resolved now)."""
    check_name(name)
    ref = parse_reference(model, field="model")
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Endpoint.id).where(t.Endpoint.name == name)) is not None:
            raise Conflict(f"endpoint {name!r} already exists", field="name")
        _, version = resolve(session, ref)
        row = t.Endpoint(
            name=name, model_ref=str(ref), model_version_id=version.id, created_by=ctx.principal
        )
        session.add(row)
        session.flush()
        return endpoint_info(session, row)


@operation("endpoints:UpdateEndpoint", _endpoint_resource, mutating=True)
def update_endpoint(ctx: RequestContext, name: str, model: str) -> EndpointInfo:
    """Point an endpoint at another model version (servers pick it up on restart)."""
    ref = parse_reference(model, field="model")
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        _, version = resolve(session, ref)
        row.model_ref = str(ref)
        row.model_version_id = version.id
        row.updated_at = utcnow()
        session.flush()
        return endpoint_info(session, row)


@operation("endpoints:DescribeEndpoint", _endpoint_resource, mutating=False)
def get_endpoint(ctx: RequestContext, name: str) -> EndpointInfo:
    with ctx.platform.db.session() as session:
        return endpoint_info(session, find_endpoint(session, name))


@operation("endpoints:ListEndpoints", lambda: resource("endpoint"), mutating=False)
def list_endpoints(ctx: RequestContext) -> list[EndpointInfo]:
    with ctx.platform.db.session() as session:
        rows = session.scalars(sa.select(t.Endpoint).order_by(t.Endpoint.name))
        return [endpoint_info(session, row) for row in rows]


@operation("endpoints:DeleteEndpoint", _endpoint_resource, mutating=True)
def delete_endpoint(ctx: RequestContext, name: str) -> EndpointInfo:
    with ctx.platform.db.session() as session:
        row = find_endpoint(session, name)
        info = endpoint_info(session, row)
        session.delete(row)
        return info
