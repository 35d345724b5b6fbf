"""Append versions: a new version that is its parent plus a few new files, in O(new files).

Versions made by appending share one partition list. The first version of such a chain (the
base) registers its files in ``dataset_partitions`` under its own id; every later version
adds only its new files to the same list, with the next ordinals, and records how many of
the list's files it holds (``partition_count``). Reading any version is one indexed range
query: ``dataset_version_id = partition_base_id AND ordinal < partition_count``. Rows are
only ever added past every existing version's count, so earlier versions read exactly what
they read before. The unique ``(dataset_version_id, ordinal)`` key makes two writers that
extend the same version clash instead of interleaving.

A version's digest is the digest of a small manifest naming its parent's digest and its new
files, so it identifies the whole content without a manifest that grows with every append.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets._versions import version_files
from shipyard.store.blobs import BlobStore
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import transform_tables as tt

APPEND_FORMAT = "shipyard.partitions.append/1"


def append_version(
    session: Session,
    blobs: BlobStore,
    dataset: t.Dataset,
    parent: t.DatasetVersion | None,
    added: Sequence[tuple[str, int, int]],
    *,
    version: int,
    schema: list[dict[str, Any]],
    profile: dict[str, Any],
    source: str,
    created_by: str,
) -> t.DatasetVersion:
    """Register version ``version`` of ``dataset`` as ``parent``'s files plus ``added``.

    ``added`` holds (digest, rows, size_bytes) of Parquet blobs already stored. With no
    parent the version holds ``added`` alone. A parent that is not itself an append version
    has its file list copied once; from then on each append costs only its new files.
    """
    base_id: int | None = None
    start = 0
    files: list[tuple[str, int, int, dict[str, Any]]] = []
    if parent is not None and parent.partition_base_id is not None:
        assert parent.partition_count is not None
        base_id, start = parent.partition_base_id, parent.partition_count
    elif parent is not None:
        files = [(f.digest, f.rows, f.size_bytes, f.values) for f in version_files(session, parent)]
    files += [(digest, rows, size, {}) for digest, rows, size in added]
    manifest = orjson.dumps(
        {
            "format": APPEND_FORMAT,
            "parent": parent.digest if parent is not None else None,
            "partitions": [{"digest": d, "rows": r} for d, r, _ in added],
        },
        option=orjson.OPT_SORT_KEYS,
    )
    row = t.DatasetVersion(
        dataset_id=dataset.id,
        version=version,
        digest=blobs.put_bytes(manifest),
        size_bytes=(parent.size_bytes if parent is not None else 0)
        + sum(size for _, _, size in added),
        rows=(parent.rows if parent is not None else 0) + sum(rows for _, rows, _ in added),
        schema=schema,
        profile=profile,
        source=source[:500],
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    if base_id is None:
        base_id = row.id
    row.partition_base_id = base_id
    row.partition_count = start + len(files)
    session.execute(
        sa.insert(tt.DatasetPartition),
        [
            {
                "dataset_version_id": base_id,
                "ordinal": start + index,
                "partition_values": values,
                "digest": digest,
                "rows": rows,
                "size_bytes": size,
            }
            for index, (digest, rows, size, values) in enumerate(files)
        ],
    )
    session.flush()
    return row
