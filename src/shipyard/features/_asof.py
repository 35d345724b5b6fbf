"""The DuckDB statement behind a point-in-time join: one ASOF LEFT JOIN per view, one query.

The query finds, per entity row and view, the position of the matching source row (or null);
the caller takes the feature values at those positions. DuckDB reads only the key and
event-time columns of each view's Parquet files itself (or scans an Arrow table in place),
and sorts only those and the position: carrying the features through the join's sort costs
more than taking them afterwards. Time is compared as microseconds since the epoch (naive
means UTC). To make the answer deterministic when a source holds several rows of one entity
at the same event time, the ASOF inequality is on ``time * 2**64 + position``, the position
being the row's place in the source (file by file, row by row): of equal times the row
stored last wins. An entity row's own key is ``time * 2**64 + (2**64 - 1)``, so every source
row at or before its time qualifies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from shipyard.errors import IntegrityError, InvalidInput

ROW = "__shipyard_row"
TIME = "__shipyard_time"
_KEY = "__shipyard_key"
_EPOCH = "__shipyard_t"
_POSITION = "__shipyard_position"
_LOW = 1 << 64


@dataclass(frozen=True)
class AsofView:
    """One view as the query sees it: its rows (an Arrow table whose ``ROW`` column numbers
    them, or Parquet files with their row counts) and the columns the join needs."""

    entities: Sequence[str]
    event_time: str
    time_type: pa.DataType
    ttl_seconds: int
    table: pa.Table | Sequence[tuple[Path, int]]


def quote(identifier: str) -> str:
    """A DuckDB identifier for any column name."""
    return '"' + identifier.replace('"', '""') + '"'


def epoch_sql(column: str, arrow_type: pa.DataType) -> str:
    """Microseconds since the epoch of a date or timestamp column, as ``epoch_micros`` counts
    them (nanoseconds truncated toward zero; DuckDB has no ``epoch_us`` of TIMESTAMPTZ_NS)."""
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "ns":
        return f"(epoch_ns({column}) // 1000)"
    return f"epoch_us({column})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source_sql(view: AsofView, index: int, connection: duckdb.DuckDBPyConnection) -> str:
    """A subquery with the view's keys ``k0..``, epoch time, position and ASOF key."""
    time = quote(view.event_time)
    epoch = epoch_sql(time, view.time_type)
    keys = ", ".join(f"{quote(key)} AS k{i}" for i, key in enumerate(view.entities))
    if isinstance(view.table, pa.Table):
        name = f"__shipyard_source_{index}"
        connection.register(name, view.table)
        parts = [(name, quote(ROW))]
    else:
        parts, offset = [], 0
        for path, rows in view.table:
            scan = f"read_parquet({_literal(str(path))}, file_row_number = true)"
            parts.append((scan, f"{offset} + file_row_number"))
            offset += rows
    selects = [
        f"SELECT {keys}, {epoch} AS {_EPOCH}, {position} AS {_POSITION}, "
        f"{epoch}::HUGEINT * {_LOW} + ({position}) AS {_KEY} "
        f"FROM {scan} WHERE {time} IS NOT NULL"
        for scan, position in parts
    ]
    return " UNION ALL ".join(selects)


def asof_positions(
    probe: pa.Table, keys: Sequence[str], views: Sequence[AsofView], threads: int | None
) -> list[pa.ChunkedArray]:
    """Per view, the position of each ``probe`` row's source row (keys, ``TIME``, ``ROW`` =
    0..n-1; in probe order): null where the entity has no row at or before the time, or the
    latest one is older than the TTL."""
    config: dict[str, str | bool | int | float | list[str]] = (
        {"threads": threads} if threads else {}
    )
    connection = duckdb.connect(config=config)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register("__shipyard_entities", probe)
        key_alias = {key: f"e{i}" for i, key in enumerate(keys)}
        entity_columns = ", ".join(f"{quote(key)} AS {key_alias[key]}" for key in keys)
        sources, joins, outputs = [], [], []
        for index, view in enumerate(views):
            alias = f"v{index}"
            sources.append(f"{alias} AS ({_source_sql(view, index, connection)})")
            on = [f"e.{key_alias[key]} = {alias}.k{i}" for i, key in enumerate(view.entities)]
            joins.append(
                f"ASOF LEFT JOIN {alias} ON {' AND '.join(on)} AND e.{_KEY} >= {alias}.{_KEY}"
            )
            position = f"{alias}.{_POSITION}"
            if view.ttl_seconds > 0:
                oldest = f"e.{_EPOCH} - {int(view.ttl_seconds) * 1_000_000}"
                position = f"CASE WHEN {alias}.{_EPOCH} >= {oldest} THEN {position} END"
            outputs.append(f"{position} AS p{index}")
        epoch = epoch_sql(quote(TIME), probe.schema.field(TIME).type)
        sql = (
            f"WITH e AS (SELECT {entity_columns}, {quote(ROW)}, {epoch} AS {_EPOCH}, "
            f"{epoch}::HUGEINT * {_LOW} + {_LOW - 1} AS {_KEY} "
            f"FROM __shipyard_entities), {', '.join(sources)} "
            f"SELECT {', '.join(outputs)} FROM e {' '.join(joins)} ORDER BY e.{quote(ROW)}"
        )
        try:
            found = connection.sql(sql).to_arrow_table()
        except duckdb.Error as error:
            raise InvalidInput(f"point-in-time join failed: {error}", field="features") from None
    finally:
        connection.close()
    if found.num_rows != probe.num_rows:
        raise IntegrityError(
            f"point-in-time join returned {found.num_rows} rows for {probe.num_rows}"
        )
    return list(found.columns)
