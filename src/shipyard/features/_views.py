"""Feature view service: apply versioned view specs checked against their source, list, show."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.datasets import VersionFile, find_version, version_files
from shipyard.errors import InvalidInput, NotFound, ShipyardError
from shipyard.features._access import spec_source_access, view_resource
from shipyard.features._pit_store import prepare_index
from shipyard.names import check_name, resource
from shipyard.schemas.feature_spec import FeatureViewSpec, parse_view
from shipyard.schemas.features import FeatureViewInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import FEATURE_VIEWS, add_version, find_unchanged, find_versioned
from shipyard.store.metadata import feature_tables as ft
from shipyard.store.metadata import tables as t

KEY_TYPES = ("integer", "string")
TIME_TYPES = ("timestamp", "date")
_log = logging.getLogger(__name__)


def _view_resource(name: str) -> str:
    return resource("feature-view", name)


def view_info(
    name: str, row: ft.FeatureViewVersion, source_version: int, *, created: bool = False
) -> FeatureViewInfo:
    """The API view of a stored version; ``source_version`` is the dataset version checked."""
    spec = row.spec
    return FeatureViewInfo(
        name=name,
        version=row.version,
        digest=row.digest,
        source=spec["source"],
        source_version=source_version,
        entities=spec["entities"],
        event_time=spec["event_time"],
        features=spec["features"],
        ttl=spec["ttl"],
        description=spec.get("description", ""),
        columns=row.columns,
        created_by=row.created_by,
        created_at=row.created_at,
        created=created,
    )


def find_view(
    session: Session, name: str, version: int | None = None
) -> tuple[ft.FeatureView, ft.FeatureViewVersion]:
    """The named view and its version (the latest when None); NotFound otherwise."""
    return find_versioned(session, FEATURE_VIEWS, name, version, field="view")


def _source_version(session: Session, row: ft.FeatureViewVersion) -> int:
    version = session.scalar(
        sa.select(t.DatasetVersion.version).where(t.DatasetVersion.id == row.source_version_id)
    )
    return int(version or 0)


def spec_of(row: ft.FeatureViewVersion) -> FeatureViewSpec:
    return FeatureViewSpec.model_validate(row.spec)


def _check_source(
    session: Session, spec: FeatureViewSpec
) -> tuple[t.DatasetVersion, dict[str, str]]:
    name, version = spec.source_ref
    try:
        source = find_version(session, name, version)
    except NotFound as error:
        raise InvalidInput(
            f"source of view {spec.name!r}: {error.message}", field="source"
        ) from None
    types = {str(c["name"]): str(c["type"]) for c in source.schema}
    where = f"source dataset {name}@{source.version}"
    available = ", ".join(types)
    for role, columns, allowed in (
        ("entity key", spec.entities, KEY_TYPES),
        ("event time", [spec.event_time], TIME_TYPES),
        ("feature", spec.features, None),
    ):
        field = {"entity key": "entities", "event time": "event_time", "feature": "features"}[role]
        for column in columns:
            if column not in types:
                raise InvalidInput(
                    f"{role} column {column!r} is not in {where} (its columns: {available})",
                    field=field,
                )
            if allowed is not None and types[column] not in allowed:
                raise InvalidInput(
                    f"{role} column {column!r} of {where} is {types[column]}; "
                    f"it must be {' or '.join(allowed)}",
                    field=field,
                )
    wanted = [*spec.entities, spec.event_time, *spec.features]
    return source, {c: types[c] for c in wanted}


@operation(
    "features:ApplyFeatureView",
    _view_resource,
    uses=spec_source_access,
    mutating=True,
)
def apply_view(
    ctx: RequestContext, name: str, spec: dict[str, Any], dry_run: bool = False
) -> FeatureViewInfo:
    """Store ``spec`` as the next version of view ``name`` (unchanged specs reuse a version).

    Every column must exist in the source dataset; ``dry_run`` checks without writing.
    """
    check_name(name)
    if spec.get("name", name) != name:
        raise InvalidInput(f"spec names view {spec.get('name')!r}, not {name!r}", field="name")
    parsed = parse_view({**spec, "name": name}, field="spec")
    body = parsed.model_dump(mode="json")
    digest = "sha256:" + hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    with ctx.platform.db.session() as session:
        source, columns = _check_source(session, parsed)
        latest = find_unchanged(session, FEATURE_VIEWS, name, digest)
        if latest is not None:
            return view_info(name, latest, _source_version(session, latest))
        if dry_run:
            return FeatureViewInfo(
                **body,
                version=0,
                digest=digest,
                source_version=source.version,
                columns=columns,
                created_by=ctx.principal,
                created_at=utcnow(),
            )
        row, created = add_version(
            session,
            FEATURE_VIEWS,
            name,
            reuse_digest=digest,
            spec=body,
            columns=columns,
            source_version_id=source.id,
            created_by=ctx.principal,
        )
        if not created:  # another writer stored the same spec meanwhile
            return view_info(name, row, _source_version(session, row))
        info = view_info(name, row, source.version, created=True)
        files = version_files(session, source)
    _prepare_index(ctx, files, parsed)
    return info


def _prepare_index(ctx: RequestContext, files: list[VersionFile], spec: FeatureViewSpec) -> None:
    """Build the source's point-in-time index now, so retrievals find it ready; a failure
    leaves the view applied (retrieval builds the index itself or reports the problem)."""
    try:
        prepare_index(ctx.platform, files, spec.entities, spec.event_time)
    except (ShipyardError, OSError, pa.ArrowException) as error:
        _log.warning("could not index the source of feature view %r: %s", spec.name, error)


@operation("features:ListFeatureViews", lambda: resource("feature-view"), mutating=False)
def list_views(ctx: RequestContext) -> list[FeatureViewInfo]:
    """The latest version of every feature view, by name."""
    latest = (
        sa.select(
            ft.FeatureViewVersion.view_id,
            sa.func.max(ft.FeatureViewVersion.version).label("version"),
        )
        .group_by(ft.FeatureViewVersion.view_id)
        .subquery()
    )
    query = (
        sa.select(ft.FeatureView.name, ft.FeatureViewVersion, t.DatasetVersion.version)
        .join(ft.FeatureViewVersion, ft.FeatureViewVersion.view_id == ft.FeatureView.id)
        .join(t.DatasetVersion, t.DatasetVersion.id == ft.FeatureViewVersion.source_version_id)
        .join(
            latest,
            sa.and_(
                latest.c.view_id == ft.FeatureViewVersion.view_id,
                latest.c.version == ft.FeatureViewVersion.version,
            ),
        )
        .order_by(ft.FeatureView.name)
    )
    with ctx.platform.db.session() as session:
        return [view_info(name, row, source) for name, row, source in session.execute(query)]


@operation(
    "features:GetFeatureView",
    view_resource,
    mutating=False,
)
def get_view(ctx: RequestContext, name: str, version: int | None = None) -> FeatureViewInfo:
    """One version of a view (the latest when no version is given)."""
    with ctx.platform.db.session() as session:
        row = find_view(session, name, version)[1]
        return view_info(name, row, _source_version(session, row))
