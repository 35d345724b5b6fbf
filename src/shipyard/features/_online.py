"""Online service: materialize a view's latest values into the online store, read them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.datasets import find_version, load_version_table
from shipyard.errors import InvalidInput
from shipyard.features._access import (
    online_read_accesses,
    view_resource,
    view_source_access,
    views_of,
)
from shipyard.features._keys import KeyType, entity_key
from shipyard.features._materialize import latest_per_entity
from shipyard.features._refs import output_name, parse_feature_refs, select_features
from shipyard.features._views import find_view, spec_of
from shipyard.features.online import online_store_url, open_online_store
from shipyard.schemas.features import MaterializationInfo, OnlineFeatures
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import feature_tables as ft

MAX_ONLINE_ENTITIES = 10_000


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC time; naive times are taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def store_kind(url: str) -> str:
    return url.partition("://")[0].lower()


@operation(
    "features:Materialize",
    view_resource,
    uses=view_source_access,
    mutating=True,
)
def materialize(
    ctx: RequestContext,
    name: str,
    start: datetime | None = None,
    end: datetime | None = None,
    incremental: bool = False,
) -> MaterializationInfo:
    """Load each entity's latest values with event time in ``[start, end)`` into the online store.

    ``end`` defaults to now. ``incremental`` starts where the last materialization of this
    view version ended (or at ``end - ttl`` the first time, or at the beginning with no TTL).
    """
    end = as_utc(end) if end is not None else utcnow()
    start = as_utc(start) if start is not None else None
    with ctx.platform.db.session() as session:
        _, row = find_view(session, name)
        spec = spec_of(row)
        if incremental:
            if start is not None:
                raise InvalidInput(
                    "an incremental run starts at the last watermark; leave start out",
                    field="start",
                )
            watermark = session.scalar(
                sa.select(sa.func.max(ft.FeatureMaterialization.end_time)).where(
                    ft.FeatureMaterialization.view_version_id == row.id
                )
            )
            if watermark is not None:
                start = as_utc(watermark)
            elif spec.ttl:
                start = end - timedelta(seconds=spec.ttl)
        if start is not None and start >= end:
            raise InvalidInput(
                f"start {start.isoformat()} is not before end {end.isoformat()}", field="start"
            )
        source_name, source_version = spec.source_ref
        source_row = find_version(session, source_name, source_version)
        row_id, version = row.id, row.version
    batch = latest_per_entity(load_version_table(ctx.platform, source_row), spec, start, end)
    url = online_store_url(ctx.platform.settings)
    with open_online_store(url) as store:
        store.write(name, batch)
    source = f"{source_name}@{source_row.version}"
    with ctx.platform.db.session() as session:
        record = ft.FeatureMaterialization(
            view_version_id=row_id,
            start_time=start,
            end_time=end,
            source=source,
            rows=len(batch),
            created_by=ctx.principal,
        )
        session.add(record)
        session.flush()
        created_at = record.created_at
    return MaterializationInfo(
        view=name,
        version=version,
        start=start,
        end=end,
        source=source,
        rows=len(batch),
        online_store=store_kind(url),
        created_by=ctx.principal,
        created_at=created_at,
    )


@operation(
    "features:GetOnlineFeatures",
    lambda session, features: view_resource(session, views_of(features)[0]),
    uses=lambda session, features: online_read_accesses(session, views_of(features)[1:]),
    mutating=False,
)
def get_online_features(
    ctx: RequestContext,
    features: list[str],
    entities: list[dict[str, Any]],
    full_feature_names: bool = True,
) -> OnlineFeatures:
    """The stored values of ``features`` (``view`` or ``view:feature``) for each entity row;
    entities that were never materialized get nulls."""
    if not entities:
        raise InvalidInput("give at least one entity", field="entities")
    if len(entities) > MAX_ONLINE_ENTITIES:
        raise InvalidInput(f"at most {MAX_ONLINE_ENTITIES} entities per call", field="entities")
    wanted = parse_feature_refs(features)
    plans: list[tuple[str, list[tuple[str, str, KeyType]], list[str]]] = []
    with ctx.platform.db.session() as session:
        for view_name, chosen in wanted.items():
            _, row = find_view(session, view_name)
            spec = spec_of(row)
            keys: list[tuple[str, str, KeyType]] = [
                (k, k, "integer" if row.columns.get(k) == "integer" else "string")
                for k in spec.entities
            ]
            plans.append((view_name, keys, select_features(view_name, spec.features, chosen)))
    key_columns = list(dict.fromkeys(k for _, keys, _ in plans for k, _, _ in keys))
    outputs = [output_name(v, f, full_feature_names) for v, _, chosen in plans for f in chosen]
    if len(set(outputs)) != len(outputs) or set(outputs) & set(key_columns):
        raise InvalidInput("feature names clash; use full feature names", field="features")
    requests = [
        (view, [entity_key(e, keys, where=f"entities[{i}]") for i, e in enumerate(entities)])
        for view, keys, _ in plans
    ]
    with open_online_store(online_store_url(ctx.platform.settings)) as store:
        found = store.read(requests)
    result: list[dict[str, Any]] = [{k: e.get(k) for k in key_columns} for e in entities]
    for (view, _, chosen), records in zip(plans, found, strict=True):
        for out, record in zip(result, records, strict=True):
            values = record.values if record is not None else {}
            for feature in chosen:
                out[output_name(view, feature, full_feature_names)] = values.get(feature)
    return OnlineFeatures(columns=[*key_columns, *outputs], rows=result)
