"""The prepared-index engine gives exactly the ASOF engine's tables, on random data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import IntegrityError
from shipyard.features import ViewSource, point_in_time_join
from shipyard.features._pit_index import START, PitIndex, build_index

DAY_US = 86_400 * 1_000_000
BASE_US = 1_704_067_200_000_000


def _times(rng: np.random.Generator, size: int, unit: str, nulls: bool) -> pa.Array:
    """Times over 20 days on a coarse grid (many exact ties), in ``unit``, some null."""
    micros = BASE_US + rng.integers(0, 20 * 24, size) * (DAY_US // 24)
    scale = {"us": 1, "ns": 1000, "ms": 1}[unit]
    values = micros * scale if unit != "ms" else micros // 1000
    mask = rng.random(size) < 0.05 if nulls else None
    return pa.array(values, pa.int64(), mask=mask).cast(pa.timestamp(unit))


def _keys(rng: np.random.Generator, size: int, kind: str, nulls: bool) -> pa.Array:
    mask = rng.random(size) < 0.05 if nulls else None
    if kind == "sparse":  # wide, negative integer keys: the binary-search path
        values = rng.integers(-5, 40, size) * 1_000_000_007
        return pa.array(values, pa.int64(), mask=mask)
    if kind == "string":
        return pa.array([f"k{v}" for v in rng.integers(0, 40, size)], pa.string(), mask=mask)
    return pa.array(rng.integers(0, 40, size), pa.int64(), mask=mask)


def _source(rng: np.random.Generator, size: int, kind: str, unit: str) -> pa.Table:
    return pa.table(
        {
            "k": _keys(rng, size, kind, nulls=True),
            "city": pa.array(rng.choice(["a", "b", "c"], size)),
            "ts": _times(rng, size, unit, nulls=True),
            "value": pa.array(np.arange(size, dtype=np.float64)),
            "label": pa.array([f"row{i}" for i in range(size)]),
        }
    )


def _files(directory: Path, table: pa.Table, parts: int) -> list[Path]:
    """The table in ``parts`` files of small row groups (ties cross files and groups)."""
    paths = []
    bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
    for i in range(parts):
        path = directory / f"part{i}.parquet"
        pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path, row_group_size=37)
        paths.append(path)
    return paths


def _both(
    entities: pa.Table, views: list[ViewSource], paths: list[list[Path]]
) -> tuple[pa.Table, pa.Table]:
    plain = point_in_time_join(entities, views)
    indexed = [
        replace(view, index=_index(path, view)) for view, path in zip(views, paths, strict=True)
    ]
    return plain, point_in_time_join(entities, indexed)


def _index(paths: list[Path], view: ViewSource) -> PitIndex:
    time_type = pq.read_schema(paths[0]).field(view.event_time).type
    sized = [(p, pq.ParquetFile(p).metadata.num_rows) for p in paths]
    return build_index(sized, view.entities, view.event_time, time_type)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("kind", "unit", "ttl"),
    [("dense", "us", 3 * 86_400), ("sparse", "ns", 86_400), ("string", "ms", 0)],
)
def test_indexed_and_asof_engines_give_identical_tables(
    tmp_path: Path, seed: int, kind: str, unit: str, ttl: int
) -> None:
    rng = np.random.default_rng(seed)
    source = _source(rng, 3_000, kind, unit)
    paths = _files(tmp_path, source, parts=3)
    entities = pa.table(
        {
            "k": _keys(rng, 2_000, kind, nulls=True),
            "city": pa.array(rng.choice(["a", "b", "c", "d"], 2_000)),
            "event_timestamp": _times(rng, 2_000, "ns", nulls=True),
        }
    )
    views = [
        ViewSource("one", ["k"], "ts", ["value", "label"], ["one__v", "one__l"], ttl, paths),
        ViewSource("two", ["k", "city"], "ts", ["value"], ["two__v"], 2 * 86_400 + 1, paths),
    ]
    plain, indexed = _both(entities, views, [paths, paths])
    assert indexed.equals(plain)
    assert plain.column("one__v").null_count < plain.num_rows  # the check compares matches


def test_an_int32_entity_key_finds_int64_source_keys(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    paths = _files(tmp_path, _source(rng, 500, "dense", "us"), parts=1)
    entities = pa.table(
        {
            "k": pa.array(rng.integers(0, 45, 300), pa.int32()),
            "event_timestamp": _times(rng, 300, "us", nulls=False),
        }
    )
    views = [ViewSource("v", ["k"], "ts", ["value"], ["v"], 0, paths)]
    plain, indexed = _both(entities, views, [paths])
    assert indexed.equals(plain)
    assert plain.column("v").null_count < plain.num_rows


def test_unsigned_keys_beyond_int64_are_joined_too(tmp_path: Path) -> None:
    big = 2**63 + 5
    source = pa.table(
        {
            "k": pa.array([big, big, 3], pa.uint64()),
            "ts": pa.array([1, 2, 1], pa.timestamp("s")),
            "value": [1.0, 2.0, 3.0],
        }
    )
    paths = _files(tmp_path, source, parts=1)
    entities = pa.table(
        {
            "k": pa.array([big, 3, big], pa.uint64()),
            "event_timestamp": pa.array([5, 5, 1], pa.timestamp("s")),
        }
    )
    views = [ViewSource("v", ["k"], "ts", ["value"], ["v"], 0, paths)]
    plain, indexed = _both(entities, views, [paths])
    assert indexed.column("v").to_pylist() == [2.0, 3.0, 1.0]
    assert indexed.equals(plain)


def test_an_index_with_broken_segments_is_refused(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    paths = _files(tmp_path, _source(rng, 200, "dense", "us"), parts=1)
    view = ViewSource("v", ["k"], "ts", ["value"], ["v"], 0, paths)
    index = _index(paths, view)
    starts = index.keys.column(START).to_numpy().copy()
    starts[1] += 1
    keys = index.keys.set_column(index.keys.column_names.index(START), START, pa.array(starts))
    with pytest.raises(IntegrityError, match="segments"):
        PitIndex(index.entities, keys, index.events, index.rows).check()
    with pytest.raises(IntegrityError, match="outside"):
        PitIndex(index.entities, index.keys, index.events, 10).check()


def test_date_event_times_and_a_missing_source_key_match_the_asof_engine(tmp_path: Path) -> None:
    source = pa.table(
        {
            "k": pa.array(["a", "a", "b", None], pa.large_string()),
            "day": pa.array([19_000, 19_001, 19_000, 19_001], pa.date32()),
            "value": [1.0, 2.0, 3.0, 4.0],
        }
    )
    paths = _files(tmp_path, source, parts=2)
    entities = pa.table(
        {
            "k": ["a", "a", "b", "c", None],
            "event_timestamp": pa.array(
                [19_001 * DAY_US - 1, 19_001 * DAY_US, 19_001 * DAY_US, 19_002 * DAY_US, 0],
                pa.timestamp("us"),
            ),
        }
    )
    views = [ViewSource("v", ["k"], "day", ["value"], ["v"], 86_400, paths)]
    plain, indexed = _both(entities, views, [paths])
    assert indexed.column("v").to_pylist() == [1.0, 2.0, 3.0, None, None]
    assert indexed.equals(plain)
