"""An endpoint's variant rows: checks, approval gating, locking, snapshots and generations.

Every change to an endpoint runs in one transaction that first locks the
endpoint's state row (``lock_endpoint``), so concurrent changes and rollouts
apply one after the other, and ends with ``bump``, which raises the generation
serving workers watch.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import parse_reference
from shipyard.registry import model_version_access, resolve
from shipyard.security import Access
from shipyard.store.metadata import endpoint_tables as et
from shipyard.store.metadata import tables as t

PRIMARY = "primary"
_VARIANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}\Z")


def check_variant_name(value: str, *, field: str = "variant") -> str:
    if not isinstance(value, str) or not _VARIANT_NAME.match(value):
        raise InvalidInput(
            f"{value!r} is not a valid variant name (letters, digits, '.', '_', '-'; "
            "at most 50 characters)",
            field=field,
        )
    return value


MAX_WEIGHT = 1_000_000  # weights are relative; a bound keeps their sums and shares finite


def check_weight(value: float, *, field: str) -> float:
    ok = isinstance(value, int | float) and math.isfinite(value)
    if not ok or not 0 <= value <= MAX_WEIGHT:
        raise InvalidInput(f"must be a number from 0 to {MAX_WEIGHT}, got {value!r}", field=field)
    return float(value)


def check_percent(value: float, *, field: str, allow_zero: bool = True) -> float:
    ok = isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 100
    if not ok or (not allow_zero and value == 0):
        low = "0" if allow_zero else "more than 0"
        raise InvalidInput(f"must be a percentage from {low} to 100, got {value!r}", field=field)
    return float(value)


def find_endpoint(session: Session, name: str) -> t.Endpoint:
    row = session.scalar(sa.select(t.Endpoint).where(t.Endpoint.name == name))
    if row is None:
        raise NotFound(f"endpoint {name!r} does not exist", field="endpoint")
    return row


def resolve_model(session: Session, ref_text: str, *, field: str) -> tuple[t.Model, t.ModelVersion]:
    """The model version ``ref_text`` names; a missing one is NotFound on ``field``."""
    ref = parse_reference(ref_text, field=field)
    try:
        return resolve(session, ref)
    except NotFound as error:
        raise NotFound(error.message, field=field) from None


def check_approved(
    endpoint: str, production: bool, model: t.Model, version: t.ModelVersion, *, field: str
) -> None:
    """Production endpoints serve Approved model versions only."""
    if production and version.approval != "Approved":
        raise Conflict(
            f"{model.name}@{version.version} is {version.approval}; endpoint {endpoint!r} is a "
            f"production endpoint and serves Approved versions only "
            f"(`shipyard models approve {model.name}@{version.version}`)",
            field=field,
        )


def check_runtime(
    session: Session, model: t.Model, version: t.ModelVersion, runtime: str, *, field: str
) -> None:
    """An ONNX variant needs the version's ONNX export."""
    if runtime == "native":
        return
    if runtime != "onnx":
        raise InvalidInput(f"must be native or onnx, got {runtime!r}", field=field)
    from shipyard.edge import latest_export

    exported = latest_export(session, version.id, "onnx") is not None
    if not exported:
        ref = f"{model.name}@{version.version}"
        raise InvalidInput(
            f"{ref} has no ONNX export; run `shipyard export-edge {ref} --format onnx` first",
            field=field,
        )


def variants_of(session: Session, endpoint_id: int) -> list[et.EndpointVariant]:
    """Production variants first, then shadows, each by name."""
    return list(
        session.scalars(
            sa.select(et.EndpointVariant)
            .where(et.EndpointVariant.endpoint_id == endpoint_id)
            .order_by(et.EndpointVariant.role, et.EndpointVariant.name)
        )
    )


def _add_defaults(session: Session, endpoint: t.Endpoint) -> None:
    """The state row, and a "primary" variant for endpoints made before variants existed."""
    if not variants_of(session, endpoint.id):
        session.add(
            et.EndpointVariant(
                endpoint_id=endpoint.id,
                name=PRIMARY,
                model_version_id=endpoint.model_version_id,
                weight=1.0,
            )
        )
    session.add(et.EndpointState(endpoint_id=endpoint.id, capture={}, batching={}, bandit={}))
    session.flush()


def state_of(session: Session, endpoint: t.Endpoint) -> et.EndpointState:
    state = session.get(et.EndpointState, endpoint.id)
    if state is None:
        _add_defaults(session, endpoint)
        state = session.get(et.EndpointState, endpoint.id)
        assert state is not None
    return state


def lock_endpoint(session: Session, endpoint: t.Endpoint) -> et.EndpointState:
    """Take the endpoint's write lock for this transaction and return its fresh state."""
    table = et.EndpointState
    locked: object
    if session.get_bind().dialect.name == "sqlite":
        result = session.execute(
            sa.update(table)
            .where(table.endpoint_id == endpoint.id)
            .values(generation=table.generation)
            .execution_options(synchronize_session=False)
        )
        locked = cast("sa.CursorResult[Any]", result).rowcount
    else:
        locked = session.execute(
            sa.select(table.endpoint_id).where(table.endpoint_id == endpoint.id).with_for_update()
        ).first()
    if not locked:
        _add_defaults(session, endpoint)
    state = session.get(table, endpoint.id, populate_existing=True)
    assert state is not None
    return state


def running_deployment(session: Session, endpoint: str) -> et.Deployment | None:
    return session.scalar(
        sa.select(et.Deployment).where(
            et.Deployment.endpoint == endpoint, et.Deployment.status == "running"
        )
    )


def refuse_during_rollout(session: Session, endpoint: str) -> None:
    running = running_deployment(session, endpoint)
    if running is not None:
        raise Conflict(
            f"deployment {running.id} is rolling out on endpoint {endpoint!r}; wait for it or "
            f"roll it back with `shipyard deploy --rollback {endpoint}`",
            field="endpoint",
        )


def check_traffic(variants: list[et.EndpointVariant], *, field: str) -> None:
    """At least one production variant, and production weights that are not all zero."""
    production = [v for v in variants if v.role == "production"]
    if not production:
        raise Conflict("an endpoint needs at least one production variant", field=field)
    if sum(v.weight for v in production) <= 0:
        raise InvalidInput(
            "production weights are all zero; at least one variant needs traffic", field=field
        )


def snapshot(session: Session, endpoint_id: int) -> list[dict[str, Any]]:
    """The variant rows as plain data, to restore later."""
    rows = variants_of(session, endpoint_id)
    refs = _refs(session, [v.model_version_id for v in rows])
    return [
        {
            "name": v.name,
            "model_version_id": v.model_version_id,
            "model_ref": refs[v.model_version_id],
            "weight": v.weight,
            "role": v.role,
            "shadow_percent": v.shadow_percent,
            "runtime": v.runtime,
        }
        for v in rows
    ]


def restore(session: Session, endpoint: t.Endpoint, rows: list[dict[str, Any]]) -> None:
    """Replace the endpoint's variants with a snapshot."""
    session.execute(
        sa.delete(et.EndpointVariant)
        .where(et.EndpointVariant.endpoint_id == endpoint.id)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    for row in rows:
        session.add(
            et.EndpointVariant(
                endpoint_id=endpoint.id,
                name=row["name"],
                model_version_id=row["model_version_id"],
                weight=row["weight"],
                role=row["role"],
                shadow_percent=row["shadow_percent"],
                runtime=row["runtime"],
            )
        )
    session.flush()


def bump(session: Session, endpoint: t.Endpoint, state: et.EndpointState) -> None:
    """Record a change: raise the generation and point the endpoint at its main variant."""
    session.flush()
    now = utcnow()
    state.generation += 1
    state.updated_at = now
    endpoint.updated_at = now
    production = [v for v in variants_of(session, endpoint.id) if v.role == "production"]
    if production:
        main = max(production, key=lambda v: v.weight)
        if main.model_version_id != endpoint.model_version_id:
            endpoint.model_version_id = main.model_version_id
            endpoint.model_ref = _refs(session, [main.model_version_id])[main.model_version_id]
    session.flush()


def _refs(session: Session, version_ids: list[int]) -> dict[int, str]:
    if not version_ids:
        return {}
    rows = session.execute(
        sa.select(t.ModelVersion.id, t.Model.name, t.ModelVersion.version)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ModelVersion.id.in_(set(version_ids)))
    )
    return {vid: f"{name}@{version}" for vid, name, version in rows}


def serves_model(session: Session, model: str) -> list[Access]:
    """The access an endpoint change needs to serve ``model``: reading that version."""
    return [model_version_access(session, model, field="model")]
