"""Who still uses a blob: what deleting or erasing must check before purging one.

Blobs are content-addressed, so two records can share one (the same file ingested under
two dataset names, a model version registered from its run's artifact). A blob is purged
only when nothing live names it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.store.metadata import _tables as t
from shipyard.store.metadata import _tables_endpoints as et
from shipyard.store.metadata import _tables_transforms as tt


def blob_users(session: Session, digest: str, *, skip_dataset: int | None = None) -> list[str]:
    """What live records name the blob ``digest``, described (``dataset d@2``, ...).

    Deleted (tombstoned) versions do not count. ``skip_dataset`` leaves one dataset's
    versions out (an erasure rewrites all of them).
    """
    found: list[str] = []
    live: sa.ColumnElement[bool] = t.DatasetVersion.deleted_at.is_(None)
    if skip_dataset is not None:
        live = sa.and_(live, t.DatasetVersion.dataset_id != skip_dataset)
    part = tt.DatasetPartition
    holds_file = sa.or_(
        t.DatasetVersion.digest == digest,
        sa.exists().where(
            part.digest == digest,
            sa.or_(
                sa.and_(
                    t.DatasetVersion.partition_base_id.is_(None),
                    part.dataset_version_id == t.DatasetVersion.id,
                ),
                sa.and_(
                    part.dataset_version_id == t.DatasetVersion.partition_base_id,
                    part.ordinal < t.DatasetVersion.partition_count,
                ),
            ),
        ),
    )
    for name, version in session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(live, holds_file)
        .limit(5)
    ):
        found.append(f"dataset {name}@{version}")
    for name, version in session.execute(
        sa.select(t.Model.name, t.ModelVersion.version)
        .join(t.Model, t.Model.id == t.ModelVersion.model_id)
        .where(t.ModelVersion.deleted_at.is_(None), t.ModelVersion.digest == digest)
        .limit(5)
    ):
        found.append(f"model {name}@{version}")
    for run_id, path in session.execute(
        sa.select(t.RunArtifact.run_id, t.RunArtifact.path)
        .where(t.RunArtifact.digest == digest)
        .limit(5)
    ):
        found.append(f"artifact {path!r} of run {run_id}")
    for (endpoint,) in session.execute(
        sa.select(et.CaptureFile.endpoint).where(et.CaptureFile.digest == digest).limit(5)
    ):
        found.append(f"capture of endpoint {endpoint}")
    return found
