"""Offline retrieval service: point-in-time features for an entity dataset, as a new dataset."""

from __future__ import annotations

import pyarrow as pa

from shipyard.datasets import (
    DatasetVersionInfo,
    find_version,
    load_version_table,
    write_version_from_batches,
)
from shipyard.errors import InvalidInput
from shipyard.features._refs import output_name, parse_feature_refs, select_features
from shipyard.features._retrieval import ViewSource, point_in_time_join
from shipyard.features._views import find_view, spec_of
from shipyard.names import check_name, parse_reference, resource
from shipyard.security import RequestContext, operation

_SOURCE_LIMIT = 500
_BATCH_ROWS = 262_144


@operation(
    "features:RetrieveHistoricalFeatures",
    lambda output: resource("dataset", output),
    mutating=True,
)
def retrieve(
    ctx: RequestContext,
    output: str,
    features: list[str],
    entities: str,
    timestamp_column: str | None = None,
    full_feature_names: bool = True,
) -> DatasetVersionInfo:
    """Join each entity row with the latest feature values at or before its timestamp (within
    each view's TTL) and store the result as a new version of dataset ``output``.

    ``features`` are ``view`` or ``view:feature``; ``entities`` is ``name`` or ``name@version``.
    Columns are named ``<view>__<feature>`` (or ``<feature>`` without full names); the entity
    rows keep their columns and order.
    """
    check_name(output, field="output")
    ctx.authorize("datasets:Ingest", resource("dataset", output))
    wanted = parse_feature_refs(features)
    ref = parse_reference(entities, field="entities")
    if ref.alias is not None:
        raise InvalidInput("datasets have no aliases; use name or name@version", field="entities")
    plans = []
    with ctx.platform.db.session() as session:
        entity_row = find_version(session, ref.name, ref.version)
        for view_name, chosen in wanted.items():
            ctx.authorize("features:GetFeatureView", resource("feature-view", view_name))
            _, row = find_view(session, view_name)
            spec = spec_of(row)
            source_name, source_version = spec.source_ref
            source_row = find_version(session, source_name, source_version)
            plans.append(
                (spec, row.version, select_features(view_name, spec.features, chosen), source_row)
            )
    ctx.authorize("datasets:ReadData", resource("dataset", ref.name, entity_row.version))
    tables: dict[str, pa.Table] = {}
    sources = []
    for spec, _, chosen_features, source_row in plans:
        if source_row.digest not in tables:
            tables[source_row.digest] = load_version_table(ctx.platform, source_row)
        sources.append(
            ViewSource(
                name=spec.name,
                entities=spec.entities,
                event_time=spec.event_time,
                features=chosen_features,
                output_names=[
                    output_name(spec.name, f, full_feature_names) for f in chosen_features
                ],
                ttl_seconds=spec.ttl,
                table=tables[source_row.digest],
            )
        )
    joined = point_in_time_join(
        load_version_table(ctx.platform, entity_row), sources, timestamp=timestamp_column
    )
    described = ", ".join(f"{spec.name}@{version}" for spec, version, _, _ in plans)
    origin = f"features {described} as of {ref.name}@{entity_row.version}"
    return write_version_from_batches(
        ctx, output, joined.to_batches(max_chunksize=_BATCH_ROWS), source=origin[:_SOURCE_LIMIT]
    )
