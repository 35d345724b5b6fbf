"""A window of captured requests, read a capture file at a time and flattened by DuckDB.

Capture rows hold one request each, with JSON ``input`` (``{"columns": [...], "data":
[[...], ...]}``) and ``output`` (``{"prediction": ..., "probabilities": ...}``, lists in
row order for a multi-row request). DuckDB parses and unnests them in bulk into one row
per predicted row, with each monitored feature typed, a count of values that do not fit
the declared type, the prediction as text and the class probabilities.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from shipyard.monitoring._fast import assemble, fast_mask, read_rows
from shipyard.monitoring._features import Feature
from shipyard.platform import Platform
from shipyard.serving._capture import hour_of
from shipyard.store.metadata import endpoint_tables as et

_COLUMNS = ("request_id", "time", "variant", "input", "output")
_PREFIX = "split_part(input, ',\"data\":', 1)"


def capture_digests(platform: Platform, endpoint: str, start: datetime, end: datetime) -> list[str]:
    """The capture files whose hour overlaps ``[start, end)``, oldest first."""
    last = end - timedelta(microseconds=1)
    query = (
        sa.select(et.CaptureFile.digest)
        .where(
            et.CaptureFile.endpoint == endpoint,
            et.CaptureFile.hour >= hour_of(start.timestamp()),
            et.CaptureFile.hour <= hour_of(last.timestamp()),
        )
        .order_by(et.CaptureFile.hour, et.CaptureFile.id)
    )
    with platform.db.session() as session:
        return list(session.scalars(query))


def read_window(
    platform: Platform, endpoint: str, start: datetime, end: datetime
) -> Iterator[pa.Table]:
    """The raw capture rows in ``[start, end)``, one table per capture file."""
    import pyarrow.parquet as pq

    time_type = pa.timestamp("us", tz="UTC")
    low, high = pa.scalar(start, time_type), pa.scalar(end, time_type)
    for digest in capture_digests(platform, endpoint, start, end):
        source = pq.ParquetFile(io.BytesIO(platform.blobs.get_bytes(digest)))
        if not set(_COLUMNS) <= set(source.schema_arrow.names):
            continue
        table = source.read(columns=list(_COLUMNS))
        times = pc.cast(table["time"], time_type)
        keep = pc.and_(pc.greater_equal(times, low), pc.less(times, high))
        table = table.filter(keep)
        if table.num_rows:
            yield table


def _feature_sql(position: int | None, feature: Feature, alias: str) -> tuple[str, str]:
    """(typed value, 1 when the value does not fit the type) for one feature."""
    if position is None:
        return f"NULL::{'DOUBLE' if feature.numeric else 'VARCHAR'} AS {alias}", "0"
    raw = f"r[{position + 1}]"
    if feature.type == "timestamp":
        typed = f"COALESCE(TRY_CAST({raw} AS DOUBLE), epoch(TRY_CAST({raw} AS TIMESTAMP)))"
    elif feature.numeric:
        typed = f"TRY_CAST({raw} AS DOUBLE)"
    elif feature.type == "boolean":
        typed = f"CAST(TRY_CAST({raw} AS BOOLEAN) AS VARCHAR)"
    else:
        typed = raw
    bad = f"CASE WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN 1 ELSE 0 END"
    return f"{typed} AS {alias}", bad


def flatten(table: pa.Table, features: list[Feature]) -> pa.Table:
    """One row per predicted row: ``request_id``, ``variant``, ``row`` (its index in the
    request), ``has_input``, ``f0..fn`` (the features, typed), ``violations`` (values of
    the wrong type, and a missing column counts one per row), ``prediction`` (text) and
    ``probabilities`` (list of doubles)."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.register("raw", table)
        prefix_column = connection.sql(f"SELECT {_PREFIX} AS prefix FROM raw").to_arrow_table()
        keyed = table.append_column("prefix", prefix_column["prefix"])
        prefixes: list[str | None] = pc.unique(keyed["prefix"]).to_pylist()
        parts, rest = _fast_parts(connection, keyed, prefixes, features)
        for prefix in prefixes:
            # each group is filtered here, so no captured text is ever part of a query
            same = (
                pc.is_null(rest["prefix"])
                if prefix is None
                else pc.fill_null(pc.equal(rest["prefix"], prefix), False)
            )
            group = rest.filter(same)
            if group.num_rows:
                connection.register("cap", group)
                parts.append(connection.sql(_flatten_sql(prefix, features)).to_arrow_table())
    finally:
        connection.close()
    parts = [p for p in parts if p.num_rows]
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts, promote_options="permissive")


def _fast_parts(
    connection: Any, table: pa.Table, prefixes: list[str | None], features: list[Feature]
) -> tuple[list[pa.Table], pa.Table]:
    """One-row requests read as CSV (``_fast``), and the rows left for the JSON path."""
    parts: list[pa.Table] = []
    rest = table
    for prefix in prefixes:
        columns = _columns_of(prefix)
        if prefix is None or columns is None or not features or not rest.num_rows:
            continue
        mask = fast_mask(rest["input"], prefix, features)
        if not pc.any(mask).as_py():
            continue
        chosen = rest.filter(mask)
        read = read_rows(chosen["input"], prefix, columns, features)
        if read is None:
            continue
        connection.register("fastcap", chosen)
        outputs = connection.sql(_OUTPUT_SQL).to_arrow_table()
        parts.append(assemble(chosen, read, outputs))
        rest = rest.filter(pc.invert(mask))
    return parts, rest


_OUTPUT_SQL = """
    SELECT json_extract_string(output, '$.prediction') AS prediction,
           TRY_CAST(json_extract(output, '$.probabilities') AS DOUBLE[]) AS probabilities
    FROM fastcap
"""


def _columns_of(prefix: str | None) -> list[str] | None:
    if prefix is None:
        return None
    try:
        document = orjson.loads(prefix + "}")
    except orjson.JSONDecodeError:
        return None
    columns = document.get("columns") if isinstance(document, dict) else None
    return [str(c) for c in columns] if isinstance(columns, list) else None


def _flatten_sql(prefix: str | None, features: list[Feature]) -> str:
    columns = _columns_of(prefix)
    selected, bad = [], []
    for k, feature in enumerate(features):
        position = columns.index(feature.name) if columns and feature.name in columns else None
        value, violation = _feature_sql(position, feature, f"f{k}")
        selected.append(value)
        missing_column = columns is not None and position is None
        bad.append("1" if missing_column else violation)
    multi = "json_type(output, '$.prediction') = 'ARRAY'"
    return f"""
        WITH src AS (
            SELECT request_id, variant, output,
                   CAST(json_extract(input, '$.data') AS VARCHAR[][]) AS d
            FROM cap
        ),
        numbered AS (
            SELECT *, unnest(range(CAST(COALESCE(len(d), CASE WHEN {multi}
                THEN json_array_length(output, '$.prediction') ELSE 1 END) AS BIGINT))) AS i
            FROM src
        ),
        flat AS (
            SELECT request_id, variant, output, i, d[i + 1] AS r, d IS NOT NULL AS has_input,
                   {multi} AS many
            FROM numbered
        )
        SELECT request_id, variant, i AS "row", has_input,
               {", ".join(selected) or "NULL AS f_none"},
               ({" + ".join(bad) or "0"})::INTEGER AS violations,
               CASE WHEN many THEN json_extract_string(output, '$.prediction[' || i || ']')
                    ELSE json_extract_string(output, '$.prediction') END AS prediction,
               TRY_CAST(CASE WHEN many THEN json_extract(output, '$.probabilities[' || i || ']')
                    ELSE json_extract(output, '$.probabilities') END AS DOUBLE[]) AS probabilities
        FROM flat
    """
