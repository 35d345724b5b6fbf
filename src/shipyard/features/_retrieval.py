"""Point-in-time retrieval: each view's features as of each entity row's time, within its TTL.

For each entity row the join picks the source row of the same entity with the latest event
time at or before the row's timestamp; when that event time is older than the timestamp
minus the view's TTL the features are null (Feast's semantics). Of several source rows of
one entity at the same event time, the one stored last wins. Entity columns and row order
are returned exactly as given; feature columns are appended with their source types. A
view with a prepared index (see ``_pit_index``) is looked up through it; the others are
joined by one DuckDB ASOF query (see ``_asof``). Both give the same answer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.features._asof import ROW, TIME, AsofView, asof_positions, epoch_sql, quote
from shipyard.features._pit_index import PitIndex, index_positions

__all__ = [
    "ViewSource",
    "check_views",
    "epoch_micros",
    "point_in_time_join",
    "quote",
    "timestamp_column",
]

DEFAULT_TIMESTAMP_COLUMN = "event_timestamp"


@dataclass(frozen=True)
class ViewSource:
    """One feature view's part of a retrieval: which columns of which table, named how."""

    name: str
    entities: Sequence[str]
    event_time: str
    features: Sequence[str]
    output_names: Sequence[str]
    ttl_seconds: int
    table: pa.Table | Path | Sequence[Path]
    index: PitIndex | None = None


def is_time(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type))


def timestamp_column(entities: pa.Schema, requested: str | None) -> str:
    """The entity table's timestamp column: the one named, else ``event_timestamp``, else the
    only timestamp column; InvalidInput when there is none."""
    if requested is not None:
        if requested not in entities.names:
            raise InvalidInput(
                f"entity table has no column {requested!r}", field="timestamp_column"
            )
        chosen = requested
    elif DEFAULT_TIMESTAMP_COLUMN in entities.names:
        chosen = DEFAULT_TIMESTAMP_COLUMN
    else:
        times = [f.name for f in entities if is_time(f.type)]
        if len(times) != 1:
            found = "none" if not times else ", ".join(repr(t) for t in times)
            raise InvalidInput(
                "entity table needs a timestamp column to retrieve features as of "
                f"(timestamp columns found: {found}); name it with timestamp_column",
                field="timestamp_column",
            )
        chosen = times[0]
    if not is_time(entities.field(chosen).type):
        raise InvalidInput(
            f"column {chosen!r} of the entity table is {entities.field(chosen).type}, "
            "not a timestamp or date",
            field="timestamp_column",
        )
    return chosen


def _paths(table: Path | Sequence[Path]) -> list[Path]:
    return [table] if isinstance(table, Path) else list(table)


def _schema(table: pa.Table | Path | Sequence[Path]) -> pa.Schema:
    """The source's Arrow schema (a version's files share one; the first one's footer says it)."""
    if isinstance(table, pa.Table):
        return table.schema
    paths = _paths(table)
    if not paths:
        raise InvalidInput("a feature view's source has no files", field="source")
    try:
        return pq.read_schema(paths[0])
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(
            f"feature source {paths[0]} is not readable Parquet: {error}"
        ) from None


def _asof_view(view: ViewSource, schema: pa.Schema) -> AsofView:
    """The view's rows for the query: Parquet files stay on disk, a table is narrowed to
    the key and time columns and numbered (positions also break ties of equal times)."""
    time_type = schema.field(view.event_time).type
    if isinstance(view.table, pa.Table):
        narrowed = view.table.select(list(dict.fromkeys([*view.entities, view.event_time])))
        numbers = pa.array(np.arange(narrowed.num_rows, dtype=np.int64))
        table: pa.Table | list[tuple[Path, int]] = narrowed.append_column(ROW, numbers)
    else:
        table = [(path, _rows(path)) for path in _paths(view.table)]
    return AsofView(view.entities, view.event_time, time_type, view.ttl_seconds, table)


def _rows(path: Path) -> int:
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"feature source {path} is not readable Parquet: {error}") from None


def probe_times(column: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Epoch microseconds of the entity rows' times, computed by DuckDB exactly as the ASOF
    query computes them, and which rows have one."""
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register("probe", pa.table([column], names=["t"]))
        epochs = connection.sql(
            f"SELECT {epoch_sql('t', column.type)} AS t FROM probe"
        ).to_arrow_table()
    finally:
        connection.close()
    found = epochs.column("t").combine_chunks()
    valid: npt.NDArray[np.bool_] = found.is_valid().to_numpy(zero_copy_only=False)
    times: npt.NDArray[np.int64] = found.fill_null(0).to_numpy(zero_copy_only=False)
    return times, valid


def _source(view: ViewSource) -> pa.Table:
    """The view's feature columns of its whole source, as stored (several chunks per file).

    The chunks are taken from as they are: Arrow's chunked ``take`` is as fast as taking
    from one contiguous array, so combining them first would only copy every column of the
    source once more (the largest allocation of a retrieval)."""
    columns = list(dict.fromkeys(view.features))
    if isinstance(view.table, pa.Table):
        return view.table.select(columns)
    try:
        return pa.concat_tables(
            (pq.read_table(path, columns=columns) for path in _paths(view.table)),
            promote_options="default",
        )
    except (pa.ArrowException, OSError) as error:
        raise IntegrityError(f"feature source of view {view.name!r}: {error}") from None


def _features(view: ViewSource, positions: pa.ChunkedArray | pa.Array) -> pa.Table:
    """The view's feature columns at the matched positions (null where none matched)."""
    return _source(view).take(positions)


def _check_view(view: ViewSource, entities: pa.Schema) -> pa.Schema:
    """The source's schema, once the view's columns are known to be in it and to fit."""
    source = _schema(view.table)
    for column in view.entities:
        if column not in entities.names:
            raise InvalidInput(
                f"entity table has no column {column!r} (entity key of view {view.name!r})",
                field="entities",
            )
        if column not in source.names:
            raise InvalidInput(
                f"source of view {view.name!r} has no entity column {column!r}", field="source"
            )
        left, right = entities.field(column).type, source.field(column).type
        if _key_kind(left) != _key_kind(right):
            raise InvalidInput(
                f"entity key {column!r} is {left} in the entity table but {right} in the "
                f"source of view {view.name!r}",
                field="entities",
            )
    for column in (view.event_time, *view.features):
        if column not in source.names:
            raise InvalidInput(
                f"source of view {view.name!r} has no column {column!r}", field="source"
            )
    if not is_time(source.field(view.event_time).type):
        raise InvalidInput(
            f"event time {view.event_time!r} of view {view.name!r} is not a timestamp",
            field="source",
        )
    return source


def _key_kind(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    return str(arrow_type)


def _check_names(entities: pa.Schema, views: Sequence[ViewSource]) -> None:
    seen = set(entities.names)
    for view in views:
        for name in view.output_names:
            if name in seen:
                raise InvalidInput(
                    f"output column {name!r} of view {view.name!r} clashes with another "
                    "column; use full feature names",
                    field="features",
                )
            seen.add(name)


def epoch_micros(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Microseconds since the epoch (UTC) of a timestamp or date column; naive means UTC."""
    if pa.types.is_date(column.type):
        column = column.cast(pa.timestamp("us"))
    elif column.type.tz is not None:
        column = column.cast(pa.timestamp(column.type.unit))
    if column.type.unit != "us":
        column = column.cast(pa.timestamp("us"), safe=False)
    return column.cast(pa.int64())


def check_views(
    entities: pa.Schema, views: Sequence[ViewSource], timestamp: str | None
) -> tuple[str, list[pa.Schema]]:
    """The entity table's timestamp column and each view's source schema, once the views'
    columns are known to be there and to fit (InvalidInput naming the problem otherwise)."""
    if not views:
        raise InvalidInput("name at least one feature view", field="features")
    ts = timestamp_column(entities, timestamp)
    schemas = [_check_view(view, entities) for view in views]
    _check_names(entities, views)
    return ts, schemas


def _workers(threads: int | None, tasks: int) -> int:
    """How many views run at once: ``threads`` (default one per core), at most one per view."""
    wanted = threads if threads and threads > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, tasks))


def _view_positions(
    view: ViewSource,
    entities: pa.Table,
    matched: pa.ChunkedArray | pa.Array | None,
    entity_times: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None,
) -> pa.ChunkedArray | pa.Array:
    """The view's matched source positions: looked up through its index when it has one
    (``entity_times`` are the entity rows' times and which rows have one), else the ones the
    ASOF join found (``matched``; none: all null)."""
    if view.index is not None and entity_times is not None:
        times, valid = entity_times
        return index_positions(view.index, entities, view.entities, times, valid, view.ttl_seconds)
    return pa.nulls(entities.num_rows, pa.int64()) if matched is None else matched


def _read_and_take(view: ViewSource, positions: Future[pa.ChunkedArray | pa.Array]) -> pa.Table:
    """The view's feature columns: its source read while its positions are still being
    looked up (by another thread), then taken at them."""
    columns = _source(view)
    return columns.take(positions.result())


def _view_tables(
    views: Sequence[ViewSource],
    entities: pa.Table,
    matched: Sequence[pa.ChunkedArray | pa.Array | None],
    entity_times: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None,
    workers: int,
) -> list[pa.Table]:
    """Each view's feature columns, in view order, ``workers`` threads at a time.

    Reading Parquet, Arrow's ``take`` and numpy's searches release the GIL, so threads use
    the other cores. Each view is two tasks: the lookup of its positions, and the read of
    its source then the take at them; all lookups are queued before any read, so a read
    waits only for a lookup already running, never for one behind it in the queue, and at
    most ``workers`` sources are in memory at once. Errors are raised as they were raised:
    the lookups' first (in view order), then the reads'; tasks not started are dropped."""
    if workers <= 1:
        positions = [
            _view_positions(view, entities, found, entity_times)
            for view, found in zip(views, matched, strict=True)
        ]
        return [_features(view, found) for view, found in zip(views, positions, strict=True)]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipyard-pit")
    try:
        lookups = [
            pool.submit(_view_positions, view, entities, found, entity_times)
            for view, found in zip(views, matched, strict=True)
        ]
        reads = [
            pool.submit(_read_and_take, view, lookup)
            for view, lookup in zip(views, lookups, strict=True)
        ]
        for lookup in lookups:
            lookup.result()
        return [read.result() for read in reads]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def point_in_time_join(
    entities: pa.Table,
    views: Sequence[ViewSource],
    *,
    timestamp: str | None = None,
    threads: int | None = None,
) -> pa.Table:
    """The entity table with each view's features as of each row's timestamp appended.

    A view's ``table`` is an Arrow table or the path(s) of its Parquet file(s), which DuckDB
    reads directly. ``threads`` caps DuckDB's threads and how many views are looked up and
    read at once (default: one per core).
    """
    ts, schemas = check_views(entities.schema, views, timestamp)
    indexed = [v.index is not None for v in views]
    positions: list[pa.ChunkedArray | pa.Array | None] = [None] * len(views)
    if not all(indexed):
        joined = [i for i, done in enumerate(indexed) if not done]
        asof = [views[i] for i in joined]
        keys = sorted({c for v in asof for c in v.entities})
        probe = pa.table(
            [
                *(entities.column(k) for k in keys),
                entities.column(ts),
                pa.array(np.arange(entities.num_rows, dtype=np.int64)),
            ],
            names=[*keys, TIME, ROW],
        )
        views_sql = [_asof_view(views[i], schemas[i]) for i in joined]
        for i, found in zip(joined, asof_positions(probe, keys, views_sql, threads), strict=True):
            positions[i] = found
    entity_times = probe_times(entities.column(ts)) if any(indexed) else None
    workers = _workers(threads, len(views))
    tables = _view_tables(views, entities, positions, entity_times, workers)
    result = entities
    for view, features in zip(views, tables, strict=True):
        for feature, name in zip(view.features, view.output_names, strict=True):
            result = result.append_column(name, features.column(feature))
    return result
