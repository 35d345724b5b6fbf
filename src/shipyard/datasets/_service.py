"""Datasets: ingest files into immutable Parquet versions with schema and profile."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from shipyard.data import (
    NumericTextScan,
    head_rows,
    profile_document,
    read_table,
    resolve_format,
    table_schema,
    write_parquet_bytes,
)
from shipyard.datasets._access import dataset_resource
from shipyard.datasets._file_batches import read_file_batches
from shipyard.datasets._staging import (
    add_next_version,
    find_content,
    version_info,
    with_type_warnings,
)
from shipyard.datasets._versions import (
    iter_version_batches,
    read_version_table,
    write_version_from_batches,
)
from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.datasets import DatasetInfo, DatasetVersionInfo, TablePreview
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.security import (
    RequestContext,
    check_tags,
    operation,
    request_tag_keys,
    set_resource_tags,
    tag_on_create,
)
from shipyard.store.metadata import DATASETS, Keyset, find_versioned
from shipyard.store.metadata import tables as t

_info = version_info


def find_version(session: Session, name: str, version: int | None) -> t.DatasetVersion:
    """The named version, or the latest one when ``version`` is None; NotFound otherwise."""
    return find_versioned(session, DATASETS, name, version, field="dataset")[1]


def load_version_table(platform: Platform, row: t.DatasetVersion) -> pa.Table:
    """The Arrow table of a version (all its partitions), digests verified on read."""
    return read_version_table(platform, row)


def _tag_pairs(tags: object, *, strict: bool) -> dict[str, str]:
    """``KEY=VALUE`` strings (how a query string carries tags) as a mapping; ``strict``
    raises InvalidInput naming the bad one, otherwise it is skipped (the call raises)."""
    pairs: dict[str, str] = {}
    for i, pair in enumerate(tags if isinstance(tags, list) else []):
        key, equals, value = pair.partition("=") if isinstance(pair, str) else ("", "", "")
        if not equals or not key:
            if strict:
                raise InvalidInput("a tag is KEY=VALUE", field=f"tags.{i}")
            continue
        pairs[key] = value
    return pairs


@operation(
    "datasets:Ingest",
    lambda name: resource("dataset", name),
    uses=tag_on_create("datasets", "dataset"),
    context=lambda tags: request_tag_keys(_tag_pairs(tags, strict=False)) if tags else {},
    mutating=True,
)
def ingest(
    ctx: RequestContext,
    name: str,
    content: bytes | Path,
    filename: str | None = None,
    format: str | None = None,
    partition_by: str | None = None,
    tags: list[str] | None = None,
) -> DatasetVersionInfo:
    """Store a CSV, Parquet or JSON Lines file as a new version; identical content reuses one.

    ``partition_by`` (comma-separated columns) stores one Parquet file per value. A file
    larger than ``ingest_in_memory_max_bytes`` is streamed in row groups in bounded memory.
    ``tags`` (``KEY=VALUE`` each) are set on the dataset once the version is stored, which
    needs ``datasets:TagResource`` too; policies see them as ``sy:RequestTag/<key>``.
    """
    check_name(name)
    given = check_tags(_tag_pairs(tags, strict=True)) if tags else {}
    stored = _ingest(ctx, name, content, filename, format, partition_by)
    if given:
        with ctx.platform.db.session() as session:
            set_resource_tags(session, resource("dataset", name), given)
    return stored


def _ingest(
    ctx: RequestContext,
    name: str,
    content: bytes | Path,
    filename: str | None,
    format: str | None,
    partition_by: str | None,
) -> DatasetVersionInfo:
    columns = [c.strip() for c in (partition_by or "").split(",") if c.strip()]
    if isinstance(content, Path):
        filename = content.name if filename is None else filename
        if _file_size(content) > ctx.platform.settings.ingest_in_memory_max_bytes or columns:
            return _ingest_streaming(ctx, name, content, filename, format, columns)
        content = content.read_bytes()
    if columns and content:
        return write_version_from_batches(
            ctx,
            name,
            [read_table(content, format=format, filename=filename)],
            partition_by=columns,
            source=filename or "",
            type_scan=_type_scan(content, format, filename),
        )
    if not content:
        raise InvalidInput("file is empty", field="file")
    table = read_table(content, format=format, filename=filename)
    scan = _type_scan(content, format, filename)
    if scan is not None:
        scan.observe(table)
    data = write_parquet_bytes(table)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with ctx.platform.db.session() as session:
        existing = find_content(session, name, digest)
        if existing is not None:
            return _info(name, existing)
        schema = [c.model_dump() for c in table_schema(table)]
        profile = with_type_warnings(profile_document(table), scan)
        ctx.platform.blobs.put_bytes(data)
        row, created = add_next_version(
            session,
            name,
            digest,
            size_bytes=len(data),
            rows=table.num_rows,
            schema=schema,
            profile=profile,
            source=filename or "",
            created_by=ctx.principal,
        )
        return _info(name, row, created=created)


def _type_scan(
    content: bytes | Path, format: str | None, filename: str | None
) -> NumericTextScan | None:
    """A scan for numeric columns kept as text, for CSV (whose column types are inferred).

    JSON Lines needs none: a column mixing numbers and strings fails to read at all.
    """
    fmt = resolve_format(content, format=format, filename=filename)
    return NumericTextScan() if fmt == "csv" else None


def _file_size(path: Path) -> int:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InvalidInput(f"cannot read {path.name!r}: {error.strerror}", field="file") from None
    if size == 0:
        raise InvalidInput("file is empty", field="file")
    return size


def _ingest_streaming(
    ctx: RequestContext,
    name: str,
    path: Path,
    filename: str | None,
    format: str | None,
    columns: list[str],
) -> DatasetVersionInfo:
    fmt = resolve_format(path, format=format, filename=filename)
    return read_file_batches(
        path,
        fmt,
        lambda batches: write_version_from_batches(
            ctx,
            name,
            batches,
            partition_by=columns,
            source=filename or path.name,
            allow_empty=False,
            type_scan=NumericTextScan() if fmt == "csv" else None,  # afresh for each attempt
        ),
    )


@operation("datasets:ListDatasets", lambda: resource("dataset"), mutating=False)
def list_datasets(
    ctx: RequestContext,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
    name_contains: str | None = None,
) -> Page[DatasetInfo]:
    """Datasets by name (only those whose name holds ``name_contains``, any case), a page
    at a time, each with its latest version's figures."""
    keyset = Keyset("datasets", t.Dataset.name, limit, page_token, name_contains=name_contains)
    latest = (
        sa.select(
            t.DatasetVersion.dataset_id,
            sa.func.count().label("versions"),
            sa.func.max(t.DatasetVersion.version).label("latest"),
        )
        .group_by(t.DatasetVersion.dataset_id)
        .subquery()
    )
    named = keyset.apply(sa.select(t.Dataset)).subquery()
    dataset = aliased(t.Dataset, named)
    query = (
        sa.select(dataset, latest.c.versions, latest.c.latest, t.DatasetVersion.rows)
        .outerjoin(latest, latest.c.dataset_id == dataset.id)
        .outerjoin(
            t.DatasetVersion,
            sa.and_(
                t.DatasetVersion.dataset_id == dataset.id,
                t.DatasetVersion.version == latest.c.latest,
            ),
        )
        .order_by(dataset.name)
    )
    with ctx.platform.db.session() as session:
        found, token = keyset.page(session.execute(query).all(), lambda r: r[0].name)
        items = [
            DatasetInfo(
                name=d.name,
                versions=versions or 0,
                latest_version=latest_version,
                latest_rows=rows,
                created_at=d.created_at,
            )
            for d, versions, latest_version, rows in found
        ]
    return Page[DatasetInfo](items=items, next_page_token=token)


@operation(
    "datasets:GetDataset",
    dataset_resource,
    mutating=False,
)
def get_version(ctx: RequestContext, name: str, version: int | None = None) -> DatasetVersionInfo:
    """One version's schema and profile (the latest when no version is given)."""
    with ctx.platform.db.session() as session:
        return _info(name, find_version(session, name, version))


@operation("datasets:ListDatasetVersions", lambda name: resource("dataset", name), mutating=False)
def list_versions(ctx: RequestContext, name: str) -> list[DatasetVersionInfo]:
    with ctx.platform.db.session() as session:
        dataset = session.scalar(sa.select(t.Dataset).where(t.Dataset.name == name))
        if dataset is None:
            raise NotFound(f"dataset {name!r} does not exist", field="dataset")
        rows = session.scalars(
            sa.select(t.DatasetVersion)
            .where(t.DatasetVersion.dataset_id == dataset.id)
            .order_by(t.DatasetVersion.version)
        )
        return [_info(name, row) for row in rows]


@operation(
    "datasets:ReadData",
    dataset_resource,
    mutating=False,
)
def head(
    ctx: RequestContext, name: str, version: int | None = None, rows: int = 10
) -> TablePreview:
    """The first ``rows`` rows of a version."""
    if not 1 <= rows <= 10_000:
        raise InvalidInput("must be between 1 and 10000", field="rows")
    with ctx.platform.db.session() as session:
        row = find_version(session, name, version)
    batches = []
    for batch in iter_version_batches(ctx.platform, row, batch_size=rows):
        batches.append(batch)
        if sum(b.num_rows for b in batches) >= rows:
            break
    if not batches:
        return TablePreview(
            name=name, version=row.version, columns=[c["name"] for c in row.schema], rows=[]
        )
    table = pa.Table.from_batches(batches)
    return TablePreview(
        name=name,
        version=row.version,
        columns=table.column_names,
        rows=head_rows(table, rows),
    )
