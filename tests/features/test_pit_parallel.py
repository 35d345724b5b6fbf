"""Views looked up and read on a thread pool give the one-thread tables and errors.

The probe tables here span several of the index lookup's blocks of rows, and the sources
are many-chunk tables and multi-file Parquet sources, taken from without combining chunks.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.errors import IntegrityError, InvalidInput
from shipyard.features import ViewSource, point_in_time_join
from shipyard.features._pit_index import PitIndex, build_index

HOUR_US = 3_600 * 1_000_000
BASE_US = 1_704_067_200_000_000
ENTITY_ROWS = 20_000  # more than two blocks of the index lookup


def _source(rng: np.random.Generator, size: int) -> pa.Table:
    """Keys 0..299 (some null), hourly times over 40 days (ties, some null), features."""
    key_mask = rng.random(size) < 0.02
    time_mask = rng.random(size) < 0.02
    return pa.table(
        {
            "k": pa.array(rng.integers(0, 300, size), pa.int64(), mask=key_mask),
            "ts": pa.array(
                BASE_US + rng.integers(0, 40 * 24, size) * HOUR_US, pa.int64(), mask=time_mask
            ).cast(pa.timestamp("us")),
            "value": pa.array(rng.random(size)),
            "label": pa.array([f"row{i}" for i in range(size)]),
            "kind": pa.array(rng.choice(["a", "b", "c"], size)).dictionary_encode(),
        }
    )


def _entities(rng: np.random.Generator) -> pa.Table:
    """Keys 0..349 (some not in the sources, some null), times around the sources' span."""
    return pa.table(
        {
            "k": pa.array(
                rng.integers(0, 350, ENTITY_ROWS),
                pa.int64(),
                mask=rng.random(ENTITY_ROWS) < 0.02,
            ),
            "event_timestamp": pa.array(
                BASE_US + rng.integers(-24, 42 * 24, ENTITY_ROWS) * HOUR_US,
                pa.int64(),
                mask=rng.random(ENTITY_ROWS) < 0.02,
            ).cast(pa.timestamp("us")),
        }
    )


def _files(directory: Path, table: pa.Table, parts: int) -> list[Path]:
    """The table in ``parts`` Parquet files of small row groups."""
    directory.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, table.num_rows, parts + 1).astype(int)
    paths = []
    for i in range(parts):
        path = directory / f"part{i}.parquet"
        pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path, row_group_size=999)
        paths.append(path)
    return paths


def _index(paths: list[Path], entities: list[str]) -> PitIndex:
    sized = [(p, pq.ParquetFile(p).metadata.num_rows) for p in paths]
    return build_index(sized, entities, "ts", pa.timestamp("us"))


def _view(name: str, table: pa.Table | list[Path], ttl: int) -> ViewSource:
    features = ["value", "label", "kind"]
    return ViewSource(name, ["k"], "ts", features, [f"{name}__{f}" for f in features], ttl, table)


def _views(tmp_path: Path, rng: np.random.Generator) -> list[ViewSource]:
    """Indexed file views (with and without a TTL), an ASOF file view, a table view."""
    one = _files(tmp_path / "one", _source(rng, 30_000), parts=3)
    two = _files(tmp_path / "two", _source(rng, 20_000), parts=1)
    three = _files(tmp_path / "three", _source(rng, 10_000), parts=2)
    chunked = pa.Table.from_batches(_source(rng, 12_000).to_batches(max_chunksize=500))
    return [
        replace(_view("one", one, 3 * 86_400), index=_index(one, ["k"])),
        replace(_view("two", two, 0), index=_index(two, ["k"])),
        _view("three", three, 86_400),
        _view("four", chunked, 2 * 86_400),
    ]


def _with_broken_file(view: ViewSource, directory: Path) -> ViewSource:
    """The view with a second file that is not Parquet: its schema (read from the first
    file) passes the checks, its read fails on the pool."""
    assert isinstance(view.table, list)
    broken = directory / "broken.parquet"
    broken.write_bytes(b"PAR1 not a parquet file")
    return replace(view, table=[*view.table, broken])


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_views_on_a_pool_give_the_one_thread_table(tmp_path: Path, threads: int) -> None:
    rng = np.random.default_rng(11)
    views = _views(tmp_path, rng)
    entities = _entities(rng)
    alone = point_in_time_join(entities, views, threads=1)
    pooled = point_in_time_join(entities, views, threads=threads)
    assert pooled.equals(alone)
    assert pooled.column_names == [
        "k",
        "event_timestamp",
        *(f"{v}__{f}" for v in ("one", "two", "three", "four") for f in ("value", "label", "kind")),
    ]
    for view in ("one", "two", "three", "four"):
        matched = pooled.column(f"{view}__value")
        assert 0 < matched.null_count < pooled.num_rows  # matches and misses both checked
        assert matched.null_count == pooled.column(f"{view}__label").null_count


def test_indexed_views_on_a_pool_match_the_asof_engine(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    views = _views(tmp_path, rng)[:2]
    entities = _entities(rng)
    asof = point_in_time_join(entities, [replace(v, index=None) for v in views], threads=1)
    pooled = point_in_time_join(entities, views, threads=2)
    assert pooled.equals(asof)


def test_a_many_chunk_table_source_gives_the_one_chunk_answer(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    source = _source(rng, 12_000)
    entities = _entities(rng)
    chunked = pa.Table.from_batches(source.to_batches(max_chunksize=100))
    whole = point_in_time_join(entities, [_view("v", source.combine_chunks(), 0)], threads=1)
    pieces = point_in_time_join(entities, [_view("v", chunked, 0)], threads=2)
    assert pieces.equals(whole)
    assert pieces.schema.field("v__kind").type == source.schema.field("kind").type


def test_an_unreadable_file_fails_the_pooled_retrieval_as_alone(tmp_path: Path) -> None:
    rng = np.random.default_rng(14)
    views = _views(tmp_path, rng)
    views[0] = _with_broken_file(views[0], tmp_path)
    entities = _entities(rng)
    with pytest.raises(IntegrityError, match="feature source of view 'one'") as alone:
        point_in_time_join(entities, views, threads=1)
    with pytest.raises(IntegrityError, match="feature source of view 'one'") as pooled:
        point_in_time_join(entities, views, threads=2)
    assert str(pooled.value) == str(alone.value)


def test_a_failed_lookup_is_raised_before_a_failed_read(tmp_path: Path) -> None:
    """As on one thread, where every view's lookup runs before any source is read."""
    rng = np.random.default_rng(15)
    views = _views(tmp_path, rng)
    views[0] = _with_broken_file(views[0], tmp_path)
    strings = _source(rng, 100).set_column(0, "k", pa.array([f"x{i}" for i in range(100)]))
    string_index = _index(_files(tmp_path / "strings", strings, parts=1), ["k"])
    views[1] = replace(views[1], index=string_index)  # its keys cannot be joined with ints
    entities = _entities(rng)
    with pytest.raises(InvalidInput, match="entity keys do not match the index") as alone:
        point_in_time_join(entities, views, threads=1)
    with pytest.raises(InvalidInput, match="entity keys do not match the index") as pooled:
        point_in_time_join(entities, views, threads=4)
    assert str(pooled.value) == str(alone.value)
