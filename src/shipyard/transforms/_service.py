"""Transforms: register versioned SQL or Python steps, list and inspect them and their runs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.names import check_name, resource
from shipyard.schemas.transforms import (
    TransformInfo,
    TransformSpec,
    TransformVersionInfo,
)
from shipyard.security import RequestContext, ResourceName, latest_versioned, operation
from shipyard.store.blobs import compute_digest
from shipyard.store.metadata import TRANSFORMS, add_version, find_unchanged, find_versioned
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt
from shipyard.transforms._spec import check_spec, code_digest, output_dataset, spec_digest


def version_info(
    name: str, row: tt.TransformVersion, *, created: bool = False
) -> TransformVersionInfo:
    spec = TransformSpec.model_validate(row.spec)
    return TransformVersionInfo(
        name=name,
        version=row.version,
        kind="sql" if spec.sql is not None else "python",
        spec=spec,
        output_dataset=output_dataset(name, spec),
        code_digest=row.code_digest,
        source_digest=row.source_digest,
        created_by=row.created_by,
        created_at=row.created_at,
        created=created,
    )


def find_transform_version(
    session: Session, name: str, version: int | None
) -> tuple[tt.Transform, tt.TransformVersion]:
    """The named version of a transform, or its latest; NotFound otherwise."""
    return find_versioned(session, TRANSFORMS, name, version)


@operation("transforms:ApplyTransform", lambda name: resource("transform", name), mutating=True)
def apply_transform(
    ctx: RequestContext, name: str, spec: TransformSpec, source: str | None = None
) -> TransformVersionInfo:
    """Store ``spec`` as the next version of transform ``name``; an unchanged spec is a no-op.

    ``source`` is the text of a Python transform's module; it is checked for syntax and the
    entrypoint's function, never run here, and stored in the blob store by digest.
    """
    check_name(name)
    check_spec(name, spec, source)
    data = source.encode() if source is not None else None
    source_digest = compute_digest(data) if data is not None else None
    digest = spec_digest(spec, source_digest)
    with ctx.platform.db.session() as session:
        existing = find_unchanged(session, TRANSFORMS, name, digest)
        if existing is not None:
            return version_info(name, existing)
        if data is not None:
            ctx.platform.blobs.put_bytes(data)
        row, created = add_version(
            session,
            TRANSFORMS,
            name,
            reuse_digest=digest,
            kind=spec.kind,
            spec=spec.model_dump(mode="json"),
            code_digest=code_digest(spec, source_digest),
            source_digest=source_digest,
            created_by=ctx.principal,
        )
        return version_info(name, row, created=created)


@operation("transforms:ListTransforms", lambda: resource("transform"), mutating=False)
def list_transforms(ctx: RequestContext) -> list[TransformInfo]:
    """Every transform with its latest version and its last run's output."""
    result = []
    with ctx.platform.db.session() as session:
        for transform in session.scalars(sa.select(tt.Transform).order_by(tt.Transform.name)):
            _, latest = find_transform_version(session, transform.name, None)
            version_ids = sa.select(tt.TransformVersion.id).where(
                tt.TransformVersion.transform_id == transform.id
            )
            runs = session.scalar(
                sa.select(sa.func.count())
                .select_from(tt.TransformRun)
                .where(tt.TransformRun.transform_version_id.in_(version_ids))
            )
            last = session.execute(
                sa.select(t.Dataset.name, t.DatasetVersion.version)
                .join(t.DatasetVersion, t.DatasetVersion.dataset_id == t.Dataset.id)
                .join(
                    tt.TransformRun,
                    tt.TransformRun.output_dataset_version_id == t.DatasetVersion.id,
                )
                .where(tt.TransformRun.transform_version_id.in_(version_ids))
                .order_by(tt.TransformRun.ended_at.desc())
                .limit(1)
            ).first()
            info = version_info(transform.name, latest)
            result.append(
                TransformInfo(
                    name=transform.name,
                    versions=latest.version,
                    latest_version=latest.version,
                    kind=info.kind,
                    output_dataset=info.output_dataset,
                    runs=runs or 0,
                    last_output=f"{last[0]}@{last[1]}" if last else None,
                    created_at=transform.created_at,
                )
            )
    return result


def transform_resource(session: Session, name: str, version: int | None) -> ResourceName:
    """``sy:transform/<name>/<version>`` (also ``sy:transform/<name>``), the latest if None."""
    return latest_versioned(session, "transform", TRANSFORMS, name, version)


@operation(
    "transforms:GetTransform",
    transform_resource,
    mutating=False,
)
def get_transform(
    ctx: RequestContext, name: str, version: int | None = None
) -> TransformVersionInfo:
    """One version of a transform (the latest when no version is given)."""
    with ctx.platform.db.session() as session:
        _, row = find_transform_version(session, name, version)
        return version_info(name, row)
