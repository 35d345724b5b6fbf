"""The latest values per entity in a time range, computed in DuckDB, as an online-store batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.features._keys import encode_key_columns
from shipyard.features._retrieval import epoch_micros, quote
from shipyard.features.online import OnlineBatch
from shipyard.schemas.feature_spec import FeatureViewSpec

_TIME = "__shipyard_time"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return (aware - _EPOCH) // timedelta(microseconds=1)


def _value(name: str, arrow_type: pa.DataType) -> str:
    column = quote(name)
    if pa.types.is_floating(arrow_type):
        return f"CASE WHEN isfinite({column}) THEN {column} END"
    return column


def latest_per_entity(
    table: pa.Table, spec: FeatureViewSpec, start: datetime | None, end: datetime
) -> OnlineBatch:
    """For each entity with rows in ``[start, end)``: its newest event time and values (JSON).

    NaN and infinite floats become null, since JSON has no spelling for them.
    """
    source = table.select([*spec.entities, *spec.features]).append_column(
        _TIME, epoch_micros(table.column(spec.event_time))
    )
    keys = ", ".join(quote(k) for k in spec.entities)
    values = ", ".join(
        f"{quote(f)} := {_value(f, table.schema.field(f).type)}" for f in spec.features
    )
    conditions = [f"{quote(k)} IS NOT NULL" for k in spec.entities]
    conditions.append(f"{_TIME} < {_micros(end)}")
    if start is not None:
        conditions.append(f"{_TIME} >= {_micros(start)}")
    sql = (
        f"SELECT {keys}, max({_TIME}) AS __t, "
        f"to_json(arg_max(struct_pack({values}), {_TIME}))::VARCHAR AS __p "
        f"FROM source WHERE {' AND '.join(conditions)} GROUP BY {keys}"
    )
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.register("source", source)
        latest = connection.sql(sql).to_arrow_table()
    except duckdb.Error as error:
        raise InvalidInput(f"materialization query failed: {error}", field="view") from None
    finally:
        connection.close()
    encoded = encode_key_columns([latest.column(k) for k in spec.entities])
    return OnlineBatch(
        keys=encoded.to_pylist(),
        event_times_us=latest.column("__t").to_pylist(),
        payloads=latest.column("__p").to_pylist(),
    )
