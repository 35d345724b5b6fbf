"""Who still uses a blob: what deleting or erasing must check before purging one.

Blobs are content-addressed, so two records can share one (the same file ingested under
two dataset names, a model version registered from its run's artifact). A blob is purged
only when nothing live names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from shipyard.store.metadata import _tables as t
from shipyard.store.metadata import _tables_endpoints as et
from shipyard.store.metadata import _tables_evaluations as evt
from shipyard.store.metadata import _tables_exports as xt
from shipyard.store.metadata import _tables_features as ft
from shipyard.store.metadata import _tables_jobs as jt
from shipyard.store.metadata import _tables_monitoring as mt
from shipyard.store.metadata import _tables_streams as st
from shipyard.store.metadata import _tables_transforms as tt
from shipyard.store.metadata._database import Database

if TYPE_CHECKING:
    from shipyard.store.blobs import BlobStore

# Other records that hold a blob by digest, described: content-addressing lets any of them
# share bytes with a dataset file or a run artifact (a code file logged as both, say).
_OTHER_HOLDERS: tuple[
    tuple[InstrumentedAttribute[str] | InstrumentedAttribute[str | None], str], ...
] = (
    (xt.ModelExport.digest, "a model export"),
    (xt.ModelExport.package_digest, "an edge package"),
    (xt.BatchChunk.digest, "a batch job's chunk"),
    (evt.ModelEvaluation.report_digest, "an evaluation report"),
    (jt.CodeFile.digest, "a training job's code file"),
    (mt.MonitorRun.result_digest, "a monitor's result"),
    (mt.MonitorRun.report_digest, "a monitor's report"),
    (st.StreamPartition.digest, "a stream partition"),
    (tt.TransformVersion.code_digest, "a transform's code"),
    (tt.TransformVersion.source_digest, "a transform's source"),
    (ft.FeatureSourceIndex.keys_blob, "a feature source index"),
    (ft.FeatureSourceIndex.events_blob, "a feature source index"),
)


def blob_users(
    session: Session,
    digest: str,
    *,
    skip_dataset: int | None = None,
    skip_runs: Sequence[str] = (),
) -> list[str]:
    """What live records name the blob ``digest``, described (``dataset d@2``, ...).

    Deleted (tombstoned) versions do not count. ``skip_dataset`` leaves one dataset's
    versions out (an erasure rewrites all of them), ``skip_runs`` those runs' artifacts
    (a dry run of their purge).
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
        .where(
            t.ModelVersion.deleted_at.is_(None),
            sa.or_(t.ModelVersion.digest == digest, t.ModelVersion.code_digest == digest),
        )
        .limit(5)
    ):
        found.append(f"model {name}@{version}")
    for run_id, path in session.execute(
        sa.select(t.RunArtifact.run_id, t.RunArtifact.path)
        .where(t.RunArtifact.digest == digest, t.RunArtifact.run_id.not_in(skip_runs))
        .limit(5)
    ):
        found.append(f"artifact {path!r} of run {run_id}")
    for (endpoint,) in session.execute(
        sa.select(et.CaptureFile.endpoint).where(et.CaptureFile.digest == digest).limit(5)
    ):
        found.append(f"capture of endpoint {endpoint}")
    for column, described in _OTHER_HOLDERS:
        if session.scalar(sa.select(sa.literal(True)).where(column == digest).limit(1)):
            found.append(described)
    return found


def purge_unused_blobs(
    db: Database,
    blobs: BlobStore,
    digests: Iterable[str],
    *,
    dry_run: bool = False,
    skip_runs: Sequence[str] = (),
) -> tuple[int, list[str]]:
    """Delete each blob nothing live names any more (committed state): how many were
    deleted, and what still names the ones kept. ``dry_run`` deletes nothing and counts
    what would go, as if ``skip_runs``' artifacts were gone already."""
    purged, kept = 0, []
    for digest in dict.fromkeys(d for d in digests if d.startswith("sha256:")):
        with db.session() as session:
            users = blob_users(session, digest, skip_runs=skip_runs)
        if users:
            kept.append(f"{digest[:19]}... named by {users[0]}")
            continue
        if blobs.exists(digest):
            if not dry_run:
                blobs.delete(digest)
            purged += 1
    return purged, kept
