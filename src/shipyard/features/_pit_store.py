"""Stored point-in-time indexes: built once per source content, kept in the blob store.

An index is keyed by what it was built from: the digests of the source version's files in
order, the entity key columns and the event-time column (plus a format number), so a new
source version gets its own index and an unchanged one is reused by every view and
retrieval. Its two tables are Arrow IPC files (no pickle) in the blob store; the
``feature_source_indexes`` row says which blobs they are. Loading maps local blobs in place
and checks their digests in the background like the source files (see
``shipyard.datasets.InPlaceFiles``); a missing or malformed index is rebuilt, and a corrupt
one is dropped and rebuilt by the caller before anything is written from it.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as DuplicateRow

from shipyard.datasets import InPlaceFiles, VersionFile, scratch_directory
from shipyard.errors import IntegrityError, NotFound
from shipyard.features._pit_index import PitIndex, build_index
from shipyard.platform import Platform
from shipyard.store.metadata import feature_tables as ft

__all__ = ["IndexRequest", "drop_indexes", "ensure_index", "index_key", "prepare_index"]

FORMAT = 1


class IndexRequest:
    """What one view's index is built from: its source files and key and time columns."""

    def __init__(
        self,
        files: Sequence[VersionFile],
        entities: Sequence[str],
        event_time: str,
        time_type: pa.DataType,
    ) -> None:
        self.files = list(files)
        self.entities = tuple(entities)
        self.event_time = event_time
        self.time_type = time_type
        self.key = index_key(self.files, self.entities, event_time)


def index_key(files: Sequence[VersionFile], entities: Sequence[str], event_time: str) -> str:
    """The digest naming an index: the source files' digests in order, the columns, format."""
    body = {
        "format": FORMAT,
        "files": [f.digest for f in files],
        "entities": list(entities),
        "event_time": event_time,
    }
    return "sha256:" + hashlib.sha256(orjson.dumps(body)).hexdigest()


def _to_blob(platform: Platform, table: pa.Table, directory: Path) -> str:
    path = directory / "index.arrow"
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    digest = platform.blobs.put_file(path)
    path.unlink()
    return digest


def _from_blob(files: InPlaceFiles, digest: str) -> pa.Table:
    path = files.apart_path(digest)
    try:
        return ipc.open_file(pa.memory_map(str(path))).read_all()
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"feature source index blob {digest} is unreadable: {error}") from None


def _build(platform: Platform, files: InPlaceFiles, request: IndexRequest) -> PitIndex:
    """Build the index, store its blobs and record it (a concurrent twin's row is kept)."""
    paths = files.paths(request.files)
    sized = [(path, stored.rows) for path, stored in zip(paths, request.files, strict=True)]
    index = build_index(sized, request.entities, request.event_time, request.time_type)
    files.verify()  # never record an index of a source that is not what it should be
    with tempfile.TemporaryDirectory(dir=scratch_directory(platform), prefix="pit-") as tmp:
        keys_blob = _to_blob(platform, index.keys, Path(tmp))
        events_blob = _to_blob(platform, index.events, Path(tmp))
    spec = {"entities": list(request.entities), "event_time": request.event_time}
    try:
        with platform.db.session() as session:
            session.add(
                ft.FeatureSourceIndex(
                    key=request.key,
                    spec={**spec, "format": FORMAT, "events": index.events.num_rows},
                    keys_blob=keys_blob,
                    events_blob=events_blob,
                    rows=index.rows,
                )
            )
    except DuplicateRow:
        pass  # built at the same time by another retrieval: the same content either way
    return index


def _load(files: InPlaceFiles, row: ft.FeatureSourceIndex, request: IndexRequest) -> PitIndex:
    index = PitIndex(
        request.entities,
        _from_blob(files, row.keys_blob),
        _from_blob(files, row.events_blob),
        int(row.rows),
    )
    if index.rows != sum(f.rows for f in request.files):
        raise IntegrityError(f"feature source index {row.key} does not fit its source")
    index.check()
    return index


def ensure_index(
    platform: Platform, files: InPlaceFiles, request: IndexRequest
) -> tuple[PitIndex, bool]:
    """The source's index and whether it was built now: loaded when recorded and readable,
    else built, stored and recorded (a missing or malformed index is replaced)."""
    with platform.db.session() as session:
        row = session.scalar(
            sa.select(ft.FeatureSourceIndex).where(ft.FeatureSourceIndex.key == request.key)
        )
        if row is not None:
            session.expunge(row)
    if row is not None:
        try:
            return _load(files, row, request), False
        except (NotFound, IntegrityError):
            drop_indexes(platform, [request.key])
    return _build(platform, files, request), True


def drop_indexes(platform: Platform, keys: Sequence[str]) -> None:
    """Forget indexes (their blobs stay: content-addressed blobs may be shared)."""
    with platform.db.session() as session:
        session.execute(sa.delete(ft.FeatureSourceIndex).where(ft.FeatureSourceIndex.key.in_(keys)))


def prepare_index(
    platform: Platform, files: Sequence[VersionFile], entities: Sequence[str], event_time: str
) -> bool:
    """Build and store a source's index unless it is recorded already (when a view is
    applied, so that retrievals find it); whether one was built."""
    if not files:
        return False
    with InPlaceFiles(platform) as local:
        first = local.paths([files[0]])[0]
        try:
            time_type = pq.read_schema(first).field(event_time).type
        except (pa.ArrowException, OSError, KeyError) as error:
            raise IntegrityError(f"feature source {files[0].digest}: {error}") from None
        request = IndexRequest(files, entities, event_time, time_type)
        with platform.db.session() as session:
            if session.scalar(
                sa.select(ft.FeatureSourceIndex.id).where(ft.FeatureSourceIndex.key == request.key)
            ):
                return False
        _build(platform, local, request)
    return True
