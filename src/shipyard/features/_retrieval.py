"""Point-in-time retrieval: one DuckDB ASOF JOIN per feature view, TTL as a filter on the match.

For each entity row the join picks the source row of the same entity with the latest event
time at or before the row's timestamp; when that event time is older than the timestamp
minus the view's TTL the features are null (Feast's semantics). Entity columns and row order
are returned exactly as given; feature columns are appended.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import IntegrityError, InvalidInput

DEFAULT_TIMESTAMP_COLUMN = "event_timestamp"
_ROW = "__shipyard_row"
_TIME = "__shipyard_time"


@dataclass(frozen=True)
class ViewSource:
    """One feature view's part of a retrieval: which columns of which table, named how."""

    name: str
    entities: Sequence[str]
    event_time: str
    features: Sequence[str]
    output_names: Sequence[str]
    ttl_seconds: int
    table: pa.Table | Path


def quote(identifier: str) -> str:
    """A DuckDB identifier for any column name."""
    return '"' + identifier.replace('"', '""') + '"'


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


def _schema(table: pa.Table | Path) -> pa.Schema:
    return table.schema if isinstance(table, pa.Table) else pq.read_schema(table)


def _check_view(view: ViewSource, entities: pa.Schema) -> None:
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


def _load(view: ViewSource) -> pa.Table:
    columns = [*view.entities, view.event_time, *view.features]
    if isinstance(view.table, pa.Table):
        return view.table.select(columns)
    return pq.read_table(view.table, columns=columns)


def _matches(
    connection: duckdb.DuckDBPyConnection, source: pa.Table, view: ViewSource, rows: int
) -> pa.Array:
    """For each entity row, the index of its source row (null when none or too old)."""
    keys = [quote(k) for k in view.entities]
    probe = pa.table(
        [
            *(source.column(k) for k in view.entities),
            epoch_micros(source.column(view.event_time)),
            pa.array(np.arange(source.num_rows, dtype=np.int64)),
        ],
        names=[*view.entities, _TIME, _ROW],
    )
    connection.register("s", probe)
    on = " AND ".join(f"e.{k} = v.{k}" for k in keys)
    fresh = (
        f"v.{_TIME} >= e.{_TIME} - {int(view.ttl_seconds) * 1_000_000}"
        if view.ttl_seconds > 0
        else "TRUE"
    )
    sql = (
        f"WITH v AS (SELECT * FROM s WHERE {_TIME} IS NOT NULL) "
        f"SELECT e.{_ROW} AS r, CASE WHEN {fresh} THEN v.{_ROW} END AS i "
        f"FROM e ASOF LEFT JOIN v ON {on} AND e.{_TIME} >= v.{_TIME}"
    )
    try:
        found = connection.sql(sql).to_arrow_table()
    except duckdb.Error as error:
        raise InvalidInput(f"point-in-time join failed: {error}", field="features") from None
    finally:
        connection.unregister("s")
    if found.num_rows != rows:
        raise IntegrityError(f"point-in-time join returned {found.num_rows} rows for {rows}")
    order = found.column("r").to_numpy()
    matched = found.column("i").combine_chunks()
    positions = np.zeros(rows, dtype=np.int64)
    present = np.zeros(rows, dtype=bool)
    positions[order] = matched.fill_null(0).to_numpy()
    present[order] = matched.is_valid().to_numpy(zero_copy_only=False)
    return pa.array(positions, mask=~present)


def _view_features(view: ViewSource, probe: pa.Table, threads: int | None) -> list[pa.ChunkedArray]:
    """One view's feature columns, aligned with the entity rows (its own DuckDB connection)."""
    source = _load(view)
    connection = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        connection.register("e", probe)
        index = _matches(connection, source, view, probe.num_rows)
    finally:
        connection.close()
    return [source.column(feature).take(index) for feature in view.features]


def point_in_time_join(
    entities: pa.Table,
    views: Sequence[ViewSource],
    *,
    timestamp: str | None = None,
    threads: int | None = None,
) -> pa.Table:
    """The entity table with each view's features as of each row's timestamp appended.

    Views are joined concurrently, one DuckDB connection each (an ASOF JOIN keeps about
    one core busy); ``threads`` caps DuckDB's threads per connection.
    """
    if not views:
        raise InvalidInput("name at least one feature view", field="features")
    ts = timestamp_column(entities.schema, timestamp)
    for view in views:
        _check_view(view, entities.schema)
    _check_names(entities.schema, views)
    keys = sorted({c for v in views for c in v.entities})
    probe = pa.table(
        [
            *(entities.column(k) for k in keys),
            epoch_micros(entities.column(ts)),
            pa.array(np.arange(entities.num_rows, dtype=np.int64)),
        ],
        names=[*keys, _TIME, _ROW],
    )
    workers = max(1, min(len(views), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pit-join") as pool:
        columns = list(pool.map(lambda view: _view_features(view, probe, threads), views))
    result = entities
    for view, features in zip(views, columns, strict=True):
        for name, column in zip(view.output_names, features, strict=True):
            result = result.append_column(name, column)
    return result
