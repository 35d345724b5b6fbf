"""Offline retrieval service: point-in-time features for an entity dataset, as a new dataset.

The sources' Parquet files are read as they are stored (see ``shipyard.datasets.InPlaceFiles``).
Each view is looked up through its source's prepared index (see ``_pit_store``), built on
first use when the view's apply did not build it; only the entity table and the joined
result pass through Arrow in memory. An index blob found corrupt is dropped and rebuilt,
and the join redone, before anything is written.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

import pyarrow as pa
from sqlalchemy.orm import Session

from shipyard.datasets import (
    DatasetVersionInfo,
    InPlaceFiles,
    VersionFile,
    dataset_ref_resource,
    find_version,
    load_version_table,
    version_files,
    write_version_from_batches,
)
from shipyard.errors import IntegrityError, InvalidInput, NotFound
from shipyard.features._access import view_resource, view_source_access, views_of
from shipyard.features._pit_store import IndexRequest, drop_indexes, ensure_index
from shipyard.features._refs import output_name, parse_feature_refs, select_features
from shipyard.features._retrieval import ViewSource, check_views, point_in_time_join
from shipyard.features._views import find_view, spec_of
from shipyard.names import check_name, parse_reference, resource
from shipyard.schemas.feature_spec import FeatureViewSpec
from shipyard.security import Access, RequestContext, operation

_SOURCE_LIMIT = 500
_BATCH_ROWS = 262_144


def _retrieval_reads(
    session: Session, output: str, features: list[str], entities: str
) -> list[Access]:
    """Writing ``output``, reading the entity rows, and each view with its source dataset."""
    found = [
        Access("datasets:Ingest", resource("dataset", output)),
        Access("datasets:ReadData", dataset_ref_resource(session, entities, field="entities")),
    ]
    for view in views_of(features):
        found.append(Access("features:GetFeatureView", view_resource(session, view)))
        found.extend(view_source_access(session, view))
    return found


@operation(
    "features:RetrieveHistoricalFeatures",
    lambda output: resource("dataset", output),
    uses=_retrieval_reads,
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
    wanted = parse_feature_refs(features)
    ref = parse_reference(entities, field="entities")
    if ref.alias is not None:
        raise InvalidInput("datasets have no aliases; use name or name@version", field="entities")
    plans = []
    with ctx.platform.db.session() as session:
        entity_row = find_version(session, ref.name, ref.version)
        for view_name, chosen in wanted.items():
            _, row = find_view(session, view_name)
            spec = spec_of(row)
            source_name, source_version = spec.source_ref
            source_row = find_version(session, source_name, source_version)
            plans.append(
                (
                    spec,
                    row.version,
                    select_features(view_name, spec.features, chosen),
                    version_files(session, source_row),
                )
            )
    entity_table = load_version_table(ctx.platform, entity_row)
    with InPlaceFiles(ctx.platform) as files:
        sources = [
            ViewSource(
                name=spec.name,
                entities=spec.entities,
                event_time=spec.event_time,
                features=chosen_features,
                output_names=[
                    output_name(spec.name, f, full_feature_names) for f in chosen_features
                ],
                ttl_seconds=spec.ttl,
                table=files.paths(stored),
            )
            for spec, _, chosen_features, stored in plans
        ]
        try:
            joined = _join(ctx, files, entity_table, sources, plans, timestamp_column)
        except (InvalidInput, IntegrityError):
            files.verify()  # a corrupt source explains a failed read best
            raise
        files.verify()
    described = ", ".join(f"{spec.name}@{version}" for spec, version, _, _ in plans)
    origin = f"features {described} as of {ref.name}@{entity_row.version}"
    return write_version_from_batches(
        ctx, output, joined.to_batches(max_chunksize=_BATCH_ROWS), source=origin[:_SOURCE_LIMIT]
    )


Plan = tuple[FeatureViewSpec, int, list[str], list[VersionFile]]


def _join(
    ctx: RequestContext,
    files: InPlaceFiles,
    entity_table: pa.Table,
    sources: list[ViewSource],
    plans: list[Plan],
    timestamp: str | None,
) -> pa.Table:
    """The point-in-time join through the sources' indexes; once more with fresh indexes
    when an index blob turns out corrupt (never an answer from a corrupt index)."""
    _, schemas = check_views(entity_table.schema, sources, timestamp)
    requests = [
        IndexRequest(stored, spec.entities, spec.event_time, schema.field(spec.event_time).type)
        for (spec, _, _, stored), schema in zip(plans, schemas, strict=True)
    ]
    for attempt in range(2):
        indexed = [
            replace(source, index=ensure_index(ctx.platform, files, request)[0])
            for source, request in zip(sources, requests, strict=True)
        ]
        joined = point_in_time_join(entity_table, indexed, timestamp=timestamp)
        corrupt = files.corrupt_apart()
        if not corrupt:
            return joined
        drop_indexes(ctx.platform, [r.key for r in requests])
        files.forget(corrupt)
        for digest in corrupt:
            with suppress(NotFound):
                ctx.platform.blobs.delete(digest)
        if attempt:
            break
    raise IntegrityError(
        "the prepared index of a feature source stayed corrupt after a rebuild: "
        + ", ".join(sorted(corrupt))
    )
