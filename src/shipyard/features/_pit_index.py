"""A prepared point-in-time index of one feature source, and lookups through it.

Dataset versions are immutable, so the order a point-in-time join needs can be computed once
per (source version, entity key columns, event-time column) and reused by every retrieval:

- ``keys``: the distinct non-null entity keys, sorted; a key's rank is its row number, and
  its rows in ``events`` are ``[start, stop)``;
- ``events``: the source's rows with a non-null key and event time, sorted by (key, event
  time, stored position); ``time`` is microseconds since the epoch (as the ASOF path counts
  them) and ``position`` the row's place in the source, file by file, row by row.

A lookup maps each entity row to its key's rank, then runs a vectorized binary search in the
rank's segment for the last event at or before the row's time: of equal times the one stored
last comes last in the segment, so "stored last wins" holds as in the ASOF path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.features._asof import epoch_sql, quote

__all__ = ["PitIndex", "build_index", "index_positions"]

START = "__shipyard_start"
STOP = "__shipyard_stop"
TIME = "time"
POSITION = "position"
_ROW = "__shipyard_row"
_RANK = "__shipyard_rank"

Int64s = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PitIndex:
    """One source's prepared index (see the module docstring); ``rows`` is the source's size."""

    entities: tuple[str, ...]
    keys: pa.Table
    events: pa.Table
    rows: int

    def check(self) -> None:
        """IntegrityError unless the tables have the shape an index must have (a cheap guard
        beside the digest checks of the stored blobs)."""
        expected = [*self.entities, START, STOP]
        if self.keys.column_names != expected or self.events.column_names != [TIME, POSITION]:
            raise IntegrityError("feature source index has unexpected columns")
        starts, stops = _ints(self.keys.column(START)), _ints(self.keys.column(STOP))
        positions = _ints(self.events.column(POSITION))
        size = self.events.num_rows
        if len(starts) and (
            starts[0] != 0
            or stops[-1] != size
            or not np.array_equal(starts[1:], stops[:-1])
            or bool((stops <= starts).any())
        ):
            raise IntegrityError("feature source index has inconsistent segments")
        if size and (int(positions.min()) < 0 or int(positions.max()) >= self.rows):
            raise IntegrityError("feature source index points outside its source")


def _ints(column: pa.ChunkedArray | pa.Array) -> Int64s:
    """The column as numpy, not to be written to: a view of Arrow's buffer when it is one
    chunk without nulls, as an index's columns are (``combine_chunks`` would copy them on
    every lookup)."""
    result: Int64s = column.to_numpy(zero_copy_only=False)
    return result


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_index(
    files: Sequence[tuple[Path, int]],
    entities: Sequence[str],
    event_time: str,
    time_type: pa.DataType,
    threads: int | None = None,
) -> PitIndex:
    """Sort a source's (key, time, position) once with DuckDB; ``files`` are its Parquet
    files in stored order with their row counts."""
    config: dict[str, str | bool | int | float | list[str]] = (
        {"threads": threads} if threads else {}
    )
    keys = [quote(k) for k in entities]
    time = quote(event_time)
    parts, offset = [], 0
    for path, rows in files:
        scan = f"read_parquet({_literal(str(path))}, file_row_number = true)"
        parts.append(
            f"SELECT {', '.join(keys)}, {epoch_sql(time, time_type)} AS {TIME}, "
            f"{offset} + file_row_number AS {POSITION} FROM {scan} WHERE {time} IS NOT NULL"
            + "".join(f" AND {k} IS NOT NULL" for k in keys)
        )
        offset += rows
    connection = duckdb.connect(config=config)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute(f"CREATE TEMP TABLE source AS {' UNION ALL '.join(parts)}")
        order = ", ".join(keys)
        events = connection.sql(
            f"SELECT {TIME}, {POSITION} FROM source ORDER BY {order}, {TIME}, {POSITION}"
        ).to_arrow_table()
        counted = connection.sql(
            f"SELECT {order}, count(*) AS n FROM source GROUP BY ALL ORDER BY {order}"
        ).to_arrow_table()
    except duckdb.Error as error:
        raise InvalidInput(f"indexing the feature source failed: {error}", field="source") from None
    finally:
        connection.close()
    counts = _ints(counted.column("n"))
    stops = np.cumsum(counts, dtype=np.int64)
    starts = stops - counts
    key_table = counted.drop_columns(["n"]).append_column(START, pa.array(starts))
    key_table = key_table.append_column(STOP, pa.array(stops))
    events = pa.table(
        [events.column(TIME).cast(pa.int64()), events.column(POSITION).cast(pa.int64())],
        names=[TIME, POSITION],
    ).combine_chunks()
    index = PitIndex(tuple(entities), key_table.combine_chunks(), events, offset)
    index.check()
    return index


def _integer_ranks(sorted_keys: Int64s, wanted: pa.ChunkedArray) -> Int64s:
    """Ranks of integer keys: a direct table when the keys span a compact range (one gather),
    else a binary search in the sorted keys."""
    found = _ints(wanted.cast(pa.int64()).fill_null(0))
    valid = _ints(wanted.is_valid()).astype(bool) if wanted.null_count else None
    if not len(sorted_keys):
        return np.full(len(found), -1, dtype=np.int64)
    low, high = int(sorted_keys[0]), int(sorted_keys[-1])
    if high - low <= 4 * len(sorted_keys) + 1024:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[sorted_keys - low] = np.arange(len(sorted_keys), dtype=np.int64)
        inside = (found >= low) & (found <= high)
        ranks = np.where(inside, table[np.where(inside, found - low, 0)], -1)
    else:
        spot = np.minimum(np.searchsorted(sorted_keys, found), len(sorted_keys) - 1)
        ranks = np.where(sorted_keys[spot] == found, spot, -1)
    return ranks if valid is None else np.where(valid, ranks, -1)


def _ranks(index: PitIndex, probe: pa.Table, entities: Sequence[str]) -> Int64s:
    """Each probe row's key rank, -1 where the key is null or not in the source: numpy for
    one integer key, else one DuckDB hash join on all key columns."""
    size = probe.num_rows
    if len(entities) == 1:
        key = index.keys.column(entities[0])
        wanted = probe.column(entities[0])
        if pa.types.is_integer(key.type) and pa.types.is_integer(wanted.type):
            try:
                sorted_keys = _ints(key.cast(pa.int64()))
                return _integer_ranks(sorted_keys, wanted)
            except pa.ArrowInvalid:
                pass  # an unsigned key beyond int64: DuckDB joins it below
    connection = duckdb.connect()
    try:
        left = probe.select(list(entities)).append_column(
            _ROW, pa.array(np.arange(size, dtype=np.int64))
        )
        right = index.keys.select(list(entities)).append_column(
            _RANK, pa.array(np.arange(index.keys.num_rows, dtype=np.int64))
        )
        connection.register("l", left)
        connection.register("r", right)
        on = " AND ".join(f"l.{quote(k)} = r.{quote(k)}" for k in entities)
        found = connection.sql(f"SELECT l.{_ROW}, r.{_RANK} FROM l JOIN r ON {on}").to_arrow_table()
    except duckdb.Error as error:
        raise InvalidInput(
            f"entity keys do not match the index: {error}", field="entities"
        ) from None
    finally:
        connection.close()
    ranks = np.full(size, -1, dtype=np.int64)
    ranks[_ints(found.column(_ROW))] = _ints(found.column(_RANK))
    return ranks


def _last_at_or_before(
    event_times: Int64s, low: Int64s, high: Int64s, times: Int64s
) -> tuple[Int64s, npt.NDArray[np.bool_]]:
    """Per row, the last index in ``[low, high)`` whose event time is <= the row's time, and
    whether there is one: a branch-free binary search over all rows at once (whole arrays
    while most rows still search, then only the rows that do)."""
    base = low.copy()
    count = high - low
    size = len(count)
    half = count >> 1
    searching = int(np.count_nonzero(half))
    while searching > size // 8:
        middle = base + half
        base += np.where(event_times[middle] <= times, half, 0)
        count -= half
        half = count >> 1
        searching = int(np.count_nonzero(half))
    rows = np.flatnonzero(half)
    while len(rows):
        half = count[rows] >> 1
        middle = base[rows] + half
        before = event_times[middle] <= times[rows]
        base[rows] = np.where(before, middle, base[rows])
        count[rows] -= half
        rows = rows[count[rows] > 1]
    found = count > 0
    found[found] = event_times[base[found]] <= times[found]
    return base, found


def index_positions(
    index: PitIndex,
    probe: pa.Table,
    entities: Sequence[str],
    times: Int64s,
    valid_times: npt.NDArray[np.bool_],
    ttl_seconds: int,
) -> pa.Array:
    """Per probe row (entity key columns named as the view's), the source position of its
    point-in-time match, null where there is none or it is older than the TTL. ``times`` are
    the rows' epoch microseconds (meaningless where ``valid_times`` is False)."""
    ranks = _ranks(index, probe, entities)
    known = (ranks >= 0) & valid_times
    size = len(ranks)
    if not index.keys.num_rows or not known.any():
        return pa.nulls(size, pa.int64())
    columns = _Columns(
        _ints(index.keys.column(START)),
        _ints(index.keys.column(STOP)),
        _ints(index.events.column(TIME)),
        _ints(index.events.column(POSITION)),
        int(ttl_seconds) * 1_000_000 if ttl_seconds > 0 else None,
    )
    chosen = np.empty(size, dtype=np.int64)
    found = np.empty(size, dtype=np.bool_)
    for begin in range(0, size, _BLOCK):
        rows = slice(begin, begin + _BLOCK)
        chosen[rows], found[rows] = _match(columns, ranks[rows], known[rows], times[rows])
    return pa.array(chosen, type=pa.int64(), mask=~found)


# Probe rows matched per block: a block's searches revisit the same few cache lines of
# ``events`` each step, which stay in the core's cache for a block this size (a third
# faster than searching all rows at once, whose steps each miss the cache again).
_BLOCK = 8192


@dataclass(frozen=True)
class _Columns:
    """An index's columns as numpy (views of its buffers) and the TTL in microseconds (None:
    no TTL)."""

    starts: Int64s
    stops: Int64s
    event_times: Int64s
    positions: Int64s
    ttl_micros: int | None


def _match(
    columns: _Columns, ranks: Int64s, known: npt.NDArray[np.bool_], times: Int64s
) -> tuple[Int64s, npt.NDArray[np.bool_]]:
    """One block of probe rows: each row's matched source position, and whether it has one
    (a known key, an event at or before its time, within the TTL when there is one)."""
    safe = np.where(known, ranks, 0)
    low = np.where(known, columns.starts[safe], 0)
    high = np.where(known, columns.stops[safe], 0)
    match, found = _last_at_or_before(columns.event_times, low, high, times)
    if columns.ttl_micros is not None:
        found &= columns.event_times[match] >= times - columns.ttl_micros
    return columns.positions[match], found
