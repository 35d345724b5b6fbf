"""Erasure by key: remove rows from every version of a dataset and purge the old files.

For a data-subject request (GDPR art. 17): every live version holding a row whose ``key``
column has one of ``values`` is rewritten without those rows, keeping its version number
(runs, models and jobs that name the version keep naming it; it records the request in
``erasure_id``). Each rewritten file carries the request id in its Parquet metadata, so it
never collides with another version's content. After the new rows are committed the old
files (and the manifests of partitioned versions, which hold partition values) are purged
from the blob store. The request is stored with a salted hash of the values, never the
values, and audited.

Derived copies are not rewritten: validation reports of a rewritten version are removed
(they describe rows that are gone); transform outputs, feature materializations, batch
outputs, run artifacts and endpoint captures are other resources, erased or deleted on
their own (see ``endpoints.delete_captures``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.data import profile_document, read_parquet_bytes, write_parquet_bytes
from shipyard.datasets._versions import VersionFile, read_version_table, version_files
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.schemas.datasets import ErasedVersion, ErasureInfo
from shipyard.security import RequestContext, operation
from shipyard.store.metadata import blob_users, contract_tables, erasure_tables, purge_unused_blobs
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

MAX_VALUES = 100_000
ERASED_FORMAT = "shipyard.partitions.erased/1"


@dataclass
class _Plan:
    """What one erasure will change: old file digest -> (new digest, rows, size)."""

    dataset_id: int
    versions: list[int]
    """Ids of the live versions holding the key column."""
    digests: dict[int, str]
    """Each of those versions' digest when planned, to detect a concurrent change."""
    rewritten: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)


def _check_request(key: str, values: Sequence[object], reason: str) -> list[str]:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("name the key column", field="key")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "give the reason for the erasure (e.g. the request's ticket)", field="reason"
        )
    if len(reason) > 500:
        raise InvalidInput("at most 500 characters", field="reason")
    if isinstance(values, (str, bytes)) or not values:
        raise InvalidInput("give at least one key value to erase", field="values")
    if len(values) > MAX_VALUES:
        raise InvalidInput(f"at most {MAX_VALUES} values per request", field="values")
    texts = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidInput("values must be strings or numbers", field="values")
        text = str(value).strip()
        if not text:
            raise InvalidInput("an empty value", field="values")
        texts.append(text)
    return sorted(set(texts))


def _typed(values: list[str], column_type: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, pa.string()).cast(column_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InvalidInput(
            f"the values are not all of the key column's type ({column_type})", field="values"
        ) from None


def _matches(table: pa.Table, key: str, wanted: pa.Array) -> pa.ChunkedArray:
    return pc.fill_null(pc.is_in(table.column(key), value_set=wanted), False)


def values_hash(salt: str, values: list[str]) -> str:
    """The salted SHA-256 stored for a request instead of its values (sorted, one per line)."""
    return hashlib.sha256((salt + "\n" + "\n".join(values)).encode()).hexdigest()


@operation(
    "datasets:EraseRows",
    lambda name: resource("dataset", name),
    mutating=True,
    audit=lambda key, values, reason: {
        "key": key,
        "values": len(values) if isinstance(values, (list, tuple)) else 0,
        "reason": reason,
    },
)
def erase(ctx: RequestContext, name: str, key: str, values: list[str], reason: str) -> ErasureInfo:
    """Remove every row whose ``key`` is one of ``values`` from every version of ``name``.

    Versions keep their numbers; the old files are purged. Refused (409, naming it) when a
    file holding the rows is also another dataset's or a model's, since purging it would
    break that resource: erase or delete it first.
    """
    texts = _check_request(key, values, reason)
    reason = reason.strip()
    request_id = uuid.uuid4().hex
    platform = ctx.platform
    plan = _plan(platform, name, key, texts, request_id)
    salt = secrets.token_hex(16)
    with platform.db.session() as session:
        versions, removed_validations, old_manifests = _apply(session, platform, plan, request_id)
        row = erasure_tables.ErasureRequest(
            id=request_id,
            dataset_id=plan.dataset_id,
            key_column=key,
            value_count=len(texts),
            salt=salt,
            values_hash=values_hash(salt, texts),
            rows_removed=sum(v.rows_removed for v in versions),
            versions=[v.model_dump() for v in versions],
            purged_blobs=0,
            requested_by=ctx.principal,
            reason=reason,
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
    purged, _ = purge_unused(platform, [*plan.rewritten, *old_manifests])
    with platform.db.session() as session:
        stored = session.get(erasure_tables.ErasureRequest, request_id)
        assert stored is not None
        stored.purged_blobs = purged
        return ErasureInfo(
            id=request_id,
            dataset=name,
            key=key,
            value_count=len(texts),
            values_hash=stored.values_hash,
            rows_removed=stored.rows_removed,
            versions=versions,
            purged_blobs=purged,
            validations_removed=removed_validations,
            requested_by=ctx.principal,
            reason=reason,
            created_at=stored.created_at,
        )


def _plan(platform: Platform, name: str, key: str, texts: list[str], request_id: str) -> _Plan:
    """Check the request against the dataset and write the rewritten files (new blobs only)."""
    with platform.db.session() as session:
        dataset = session.scalar(sa.select(t.Dataset).where(t.Dataset.name == name))
        if dataset is None:
            raise NotFound(f"dataset {name!r} does not exist", field="name")
        live = session.scalars(
            sa.select(t.DatasetVersion)
            .where(t.DatasetVersion.dataset_id == dataset.id, t.DatasetVersion.deleted_at.is_(None))
            .order_by(t.DatasetVersion.version)
        ).all()
        holding = [v for v in live if key in {c["name"] for c in v.schema}]
        if not holding:
            known = sorted({c["name"] for v in live for c in v.schema})
            raise InvalidInput(
                f"no column {key!r} in any version of {name!r} (columns: {', '.join(known)})",
                field="key",
            )
        files = sorted({f.digest for v in holding for f in version_files(session, v)})
        for digest in files:
            users = blob_users(session, digest, skip_dataset=dataset.id)
            if users:
                raise Conflict(
                    f"a file of {name!r} is also stored as {users[0]}; purging it would break "
                    "that: erase or delete there first",
                    field="name",
                )
        plan = _Plan(dataset.id, [v.id for v in holding], {v.id: v.digest for v in holding})
    wanted: pa.Array | None = None
    for index, digest in enumerate(files):
        table = read_parquet_bytes(platform.blobs.get_bytes(digest))
        if key not in table.column_names:
            continue
        if wanted is None:
            wanted = _typed(texts, table.schema.field(key).type)
        mask = _matches(table, key, wanted)
        removed = pc.sum(mask).as_py() or 0
        if not removed:
            continue
        kept = table.filter(pc.invert(mask))
        data = write_parquet_bytes(kept, marker={"shipyard.erasure": f"{request_id}/{index}"})
        plan.rewritten[digest] = (platform.blobs.put_bytes(data), kept.num_rows, len(data))
        plan.removed[digest] = removed
    return plan


def _apply(
    session: Session, platform: Platform, plan: _Plan, request_id: str
) -> tuple[list[ErasedVersion], int, list[str]]:
    """Point every affected version at its rewritten files, in the caller's transaction."""
    rows = session.scalars(
        sa.select(t.DatasetVersion).where(t.DatasetVersion.id.in_(plan.versions)).with_for_update()
    ).all()
    for row in rows:
        if row.deleted_at is not None or row.digest != plan.digests[row.id]:
            raise Conflict("the dataset changed during the erasure; try again", field="name")
    parts = session.scalars(
        sa.select(tt.DatasetPartition).where(
            tt.DatasetPartition.dataset_version_id.in_(
                sa.select(t.DatasetVersion.id).where(t.DatasetVersion.dataset_id == plan.dataset_id)
            ),
            tt.DatasetPartition.digest.in_(list(plan.rewritten)),
        )
    ).all()
    for part in parts:
        new, count, size = plan.rewritten[part.digest]
        part.digest, part.rows, part.size_bytes = new, count, size
        if count == 0:  # a partition of erased keys alone: its values name them
            part.partition_values = dict.fromkeys(part.partition_values)
    session.flush()
    erased: list[ErasedVersion] = []
    old_manifests: list[str] = []
    changed: list[t.DatasetVersion] = []
    for row in sorted(rows, key=lambda r: r.version):
        files = version_files(session, row)
        if len(files) == 1 and files[0].digest == row.digest and row.digest in plan.rewritten:
            new, count, size = plan.rewritten[row.digest]
            removed = plan.removed[row.digest]
            row.digest, row.rows, row.size_bytes = new, count, size
        else:
            old = _old_files(files, plan)
            removed = sum(plan.removed.get(digest, 0) for digest in old)
            if not removed:
                continue
            old_manifests.append(row.digest)
            manifest = orjson.dumps(
                {
                    "format": ERASED_FORMAT,
                    "erasure": request_id,
                    "version": row.version,
                    "partitions": [{"digest": f.digest, "rows": f.rows} for f in files],
                },
                option=orjson.OPT_SORT_KEYS,
            )
            row.digest = platform.blobs.put_bytes(manifest)
            row.rows = sum(f.rows for f in files)
            row.size_bytes = sum(f.size_bytes for f in files)
        row.erasure_id = request_id
        changed.append(row)
        erased.append(
            ErasedVersion(
                version=row.version, rows_removed=removed, rows=row.rows, digest=row.digest
            )
        )
    session.flush()
    for row in changed:
        profile = profile_document(read_version_table(platform, row, session=session))
        for kept in ("partitioning", "warnings"):
            if kept in row.profile:
                profile[kept] = row.profile[kept]
        row.profile = profile
    validations = session.execute(
        sa.delete(contract_tables.DataValidation).where(
            contract_tables.DataValidation.dataset_version_id.in_([r.id for r in changed])
        )
    )
    session.flush()
    return erased, int(getattr(validations, "rowcount", 0) or 0), old_manifests


def _old_files(files: list[VersionFile], plan: _Plan) -> list[str]:
    """The old digests of a multi-file version's files that this erasure replaced."""
    new_to_old = {new: old for old, (new, _, _) in plan.rewritten.items()}
    return [new_to_old[f.digest] for f in files if f.digest in new_to_old]


def purge_unused(platform: Platform, digests: list[str]) -> tuple[int, list[str]]:
    """Delete each blob nothing live names any more (committed state): how many were
    deleted, and what still names the ones kept."""
    return purge_unused_blobs(platform.db, platform.blobs, digests)


@operation("datasets:ListErasures", lambda name: resource("dataset", name), mutating=False)
def list_erasures(ctx: RequestContext, name: str) -> list[ErasureInfo]:
    """The erasure requests applied to dataset ``name``, oldest first (no values in them)."""
    requests = erasure_tables.ErasureRequest
    with ctx.platform.db.session() as session:
        dataset = session.scalar(sa.select(t.Dataset).where(t.Dataset.name == name))
        if dataset is None:
            raise NotFound(f"dataset {name!r} does not exist", field="name")
        rows = session.scalars(
            sa.select(requests)
            .where(requests.dataset_id == dataset.id)
            .order_by(requests.created_at, requests.id)
        )
        return [
            ErasureInfo(
                id=row.id,
                dataset=name,
                key=row.key_column,
                value_count=row.value_count,
                values_hash=row.values_hash,
                rows_removed=row.rows_removed,
                versions=[ErasedVersion.model_validate(v) for v in row.versions],
                purged_blobs=row.purged_blobs,
                requested_by=row.requested_by,
                reason=row.reason,
                created_at=row.created_at,
            )
            for row in rows
        ]
