"""Deleting a dataset or one version: a tombstone stays in lineage, the files are purged.

The version row is kept (runs, models, jobs and validations reference it) with who deleted
it, when and why; its digest becomes ``deleted:<id>`` so ingesting the same content again
makes a new version instead of finding the tombstone. Each file is purged from the blob
store unless something live still names it (identical content elsewhere), which the
result lists. A version that is the current source of a feature view is refused (409,
naming the view) unless ``force`` is given: the view then fails on its next read.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.datasets._access import dataset_resource
from shipyard.datasets._erasure import purge_unused
from shipyard.datasets._versions import version_files
from shipyard.errors import Conflict
from shipyard.names import check_reason
from shipyard.schemas.datasets import DeletionInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import DATASETS, feature_tables, live_versions
from shipyard.store.metadata import tables as t


@operation(
    "datasets:DeleteDataset",
    dataset_resource,
    mutating=True,
    audit=lambda reason, force: {"reason": reason, "force": force},
)
def delete(
    ctx: RequestContext,
    name: str,
    version: int | None = None,
    reason: str = "",
    force: bool = False,
) -> DeletionInfo:
    """Delete version ``version`` of ``name``, or every version when ``version`` is None."""
    reason = check_reason(reason)
    now = utcnow()
    with ctx.platform.db.session() as session:
        doomed = live_versions(session, DATASETS, name, version)
        if not force:
            _refuse_if_sourced(session, name, [row.id for row in doomed])
        digests: list[str] = []
        for row in doomed:
            digests += [f.digest for f in version_files(session, row)]
            digests.append(row.digest)
            row.deleted_at, row.deleted_by, row.deleted_reason = now, ctx.principal, reason
            row.digest = f"deleted:{row.id}"
        session.flush()
        deleted = [f"{name}@{row.version}" for row in doomed]
    purged, kept = purge_unused(ctx.platform, digests)
    return DeletionInfo(
        resource_name=f"sy:dataset/{name}" if version is None else f"sy:dataset/{name}/{version}",
        deleted=deleted,
        purged_blobs=purged,
        kept_blobs=kept,
        deleted_by=ctx.principal,
        deleted_at=now,
        reason=reason,
    )


def _refuse_if_sourced(session: Session, name: str, version_ids: list[int]) -> None:
    fv = feature_tables
    latest = (
        sa.select(
            fv.FeatureViewVersion.view_id,
            sa.func.max(fv.FeatureViewVersion.version).label("latest"),
        )
        .group_by(fv.FeatureViewVersion.view_id)
        .subquery()
    )
    found = session.execute(
        sa.select(fv.FeatureView.name, t.DatasetVersion.version)
        .join(fv.FeatureViewVersion, fv.FeatureViewVersion.view_id == fv.FeatureView.id)
        .join(
            latest,
            sa.and_(
                latest.c.view_id == fv.FeatureViewVersion.view_id,
                latest.c.latest == fv.FeatureViewVersion.version,
            ),
        )
        .join(t.DatasetVersion, t.DatasetVersion.id == fv.FeatureViewVersion.source_version_id)
        .where(fv.FeatureViewVersion.source_version_id.in_(version_ids))
        .limit(1)
    ).first()
    if found is not None:
        view, number = found
        raise Conflict(
            f"feature view {view!r} reads {name}@{number}; delete or re-point it first, "
            "or pass force",
            field="force",
        )
