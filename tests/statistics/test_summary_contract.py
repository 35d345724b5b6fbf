"""The summary's contract: batches merged equal the whole, serialization round-trips, and the
profile it gives matches numpy and pandas on the same data."""

from __future__ import annotations

import datetime
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipyard.errors import InvalidInput
from shipyard.statistics import (
    COMPACT,
    PROFILE,
    ColumnSummary,
    QuantileSketch,
    SummaryOptions,
    TableSummary,
)

TINY = SummaryOptions(quantile_k=64, exact_values=64, distinct_k=64, top_cap=8)
EXACT_KEYS = ("count", "nulls", "nans", "null_fraction", "min", "max", "min_length", "max_length")


def mixed_table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0, 2.0, rows)
    x[rng.random(rows) < 0.1] = np.nan
    n = pa.array(rng.integers(-50, 50, rows), mask=rng.random(rows) < 0.05)
    s = pa.array(rng.choice(["red", "green", "blue", "ünïcode"], rows), mask=rng.random(rows) < 0.1)
    b = pa.array(rng.random(rows) < 0.3, mask=rng.random(rows) < 0.02)
    t = pa.array(rng.integers(0, 10**9, rows).astype("datetime64[s]"))
    d = pa.array([datetime.date(2024, 1, 1) + datetime.timedelta(days=int(i)) for i in range(rows)])
    return pa.table({"x": x, "n": n, "s": s, "b": b, "t": t, "d": d})


def in_batches(table: pa.Table, size: int, options: SummaryOptions) -> TableSummary:
    summary = TableSummary(options)
    for batch in table.to_batches(max_chunksize=size):
        summary.update(batch)
    return summary


def assert_profiles_equal(got: dict[str, Any], want: dict[str, Any], rel: float = 1e-9) -> None:
    assert got["rows"] == want["rows"]
    for a, b in zip(got["columns"], want["columns"], strict=True):
        for key, value in b.items():
            if isinstance(value, float) or (key == "quantiles" and value is not None):
                assert a[key] == pytest.approx(value, rel=rel), (a["name"], key)
            else:
                assert a[key] == value, (a["name"], key)


@pytest.mark.parametrize("size", [1, 7, 100])
def test_updates_in_batches_equal_one_update_of_the_whole(size: int) -> None:
    table = mixed_table(300)
    whole = TableSummary.of(table).profile()
    assert_profiles_equal(in_batches(table, size, PROFILE).profile(), whole)


def test_merged_parts_equal_the_whole_and_the_numpy_answers() -> None:
    table = mixed_table(2_000, seed=1)
    parts = [TableSummary.of(table.slice(i, 500)) for i in range(0, 2_000, 500)]
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(part)
    profile = merged.profile()
    assert_profiles_equal(profile, TableSummary.of(table).profile())
    x = table.column("x").to_numpy()
    column = profile["columns"][0]
    assert column["mean"] == pytest.approx(np.nanmean(x))
    assert column["std"] == pytest.approx(np.nanstd(x, ddof=1))
    assert column["quantiles"]["p25"] == pytest.approx(np.nanpercentile(x, 25))
    frame = table.to_pandas()
    assert profile["columns"][2]["distinct"] == frame["s"].nunique()
    top = {item["value"]: item["count"] for item in profile["columns"][2]["top_values"]}
    assert top == frame["s"].value_counts().to_dict()


def test_serialization_round_trips_through_strict_json() -> None:
    table = mixed_table(500, seed=2).append_column("inf", pa.array([1.0, np.inf] * 250))
    for options in (PROFILE, COMPACT, TINY):
        summary = in_batches(table, 64, options)
        text = json.dumps(summary.to_dict(), allow_nan=False)
        restored = TableSummary.from_dict(json.loads(text))
        assert restored.to_dict() == summary.to_dict()
        assert json.dumps(restored.profile(), allow_nan=False) == json.dumps(summary.profile())


def test_merging_restored_summaries_equals_merging_the_originals() -> None:
    first, second = mixed_table(400, seed=3), mixed_table(300, seed=4)
    a, b = TableSummary.of(first, TINY), TableSummary.of(second, TINY)
    restored = TableSummary.from_dict(a.to_dict()).merge(TableSummary.from_dict(b.to_dict()))
    assert restored.to_dict() == a.merge(b).to_dict()


def test_nulls_and_empty() -> None:
    empty = TableSummary.of(
        pa.table({"x": pa.array([], pa.float64()), "s": pa.array([], pa.string())})
    )
    x, s = empty.profile()["columns"]
    assert (x["count"], x["nulls"], x["mean"], x["quantiles"], x["distinct"]) == (
        0,
        0,
        None,
        None,
        0,
    )
    assert (s["top_values"], s["min_length"]) == ([], None)
    blank = TableSummary.of(pa.table({"x": pa.array([None, float("nan")], pa.float64())}))
    column = blank.profile()["columns"][0]
    assert (column["count"], column["nulls"], column["nans"], column["null_fraction"]) == (
        0,
        2,
        1,
        1.0,
    )
    assert TableSummary().merge(blank).profile() == blank.profile()


def test_columns_missing_from_some_batches_count_as_missing() -> None:
    summary = TableSummary().update(pa.table({"a": [1, 2]})).update(pa.table({"b": ["x"]}))
    a, b = summary.profile()["columns"]
    assert (summary.rows, a["count"], a["nulls"], b["count"], b["nulls"]) == (3, 2, 1, 1, 2)


def test_pandas_frames_and_mixed_numeric_batches() -> None:
    summary = TableSummary().update(pd.DataFrame({"v": [1, 2, 3]}))
    summary.update(pd.DataFrame({"v": [0.5, np.nan]}))
    column = summary.profile()["columns"][0]
    assert column["type"] == "float"
    assert (column["count"], column["nulls"], column["min"], column["max"]) == (4, 1, 0.5, 3.0)
    assert column["mean"] == pytest.approx(1.625)


def test_a_column_of_another_type_is_refused() -> None:
    summary = TableSummary().update(pa.table({"v": ["a"]}))
    with pytest.raises(InvalidInput, match="column 'v' holds integer"):
        summary.update(pa.table({"v": [1]}))
    with pytest.raises(InvalidInput, match="not a table summary"):
        TableSummary.from_dict({"format": 99})
    with pytest.raises(InvalidInput, match="expected a pyarrow Table"):
        TableSummary().update([1, 2])


def test_top_values_past_the_cap_keep_the_frequent_ones_and_say_so() -> None:
    rare = [f"r{i}" for i in range(100)]
    values = ["hot"] * 50 + ["warm"] * 30 + rare
    summary = ColumnSummary("s", "string", TINY)
    for start in range(0, len(values), 10):
        summary.update(pa.array(values[start : start + 10]))
    assert summary.approximations() == ["distinct", "top_values"]
    top = summary.profile()["top_values"]
    assert top[0] == {"value": "hot", "count": 50} and top[1] == {"value": "warm", "count": 30}


def test_large_columns_are_estimated_within_the_stated_bounds() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(0.0, 1.0, 400_000)
    summary = ColumnSummary("v", "float", COMPACT)
    for start in range(0, len(values), 50_000):
        summary.update(pa.array(values[start : start + 50_000]))
    assert summary.approximations() == ["distinct", "quantiles"]
    points = np.linspace(0.01, 0.99, 99)
    estimates = np.asarray(summary.quantile(points.tolist()))
    ranks = np.searchsorted(np.sort(values), estimates) / len(values)
    assert np.max(np.abs(ranks - points)) < 3 * 2 / COMPACT.quantile_k
    assert summary.profile()["distinct"] == pytest.approx(len(values), rel=0.1)
    edges = np.array([-1.0, 0.0, 1.0])
    exact = np.histogram(values, bins=[-np.inf, -1.0, 0.0, 1.0, np.inf])[0]
    assert np.abs(summary.histogram(edges) - exact).max() < 0.01 * len(values)


def test_exact_sketch_histograms_are_exact() -> None:
    values = np.array([0.5, 1.0, 1.0, 2.0, 3.0])
    sketch = QuantileSketch(64)
    sketch.update(values)
    assert sketch.histogram(np.array([1.0, 2.5])).tolist() == [3, 1, 1]


def test_temporal_extremes_round_trip() -> None:
    zoned = pa.array(
        [datetime.datetime(2024, 1, 1, 8, tzinfo=datetime.UTC), None], pa.timestamp("us", tz="UTC")
    )
    summary = TableSummary.of(pa.table({"at": zoned, "day": [datetime.date(2023, 5, 1), None]}))
    restored = TableSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    at, day = restored.profile()["columns"]
    assert at["min"] == "2024-01-01T08:00:00+00:00" and day["max"] == "2023-05-01"


numbers = st.lists(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32)), max_size=60
)


@settings(max_examples=60, deadline=None)
@given(numbers, st.integers(min_value=1, max_value=9))
def test_any_split_merges_to_the_whole(values: list[float | None], cut: int) -> None:
    array = pa.array(values, pa.float64())
    whole = ColumnSummary("v", "float", TINY).update(array)
    head = ColumnSummary("v", "float", TINY).update(array.slice(0, cut))
    tail = ColumnSummary("v", "float", TINY).update(array.slice(cut))
    merged = head.merge(tail).profile()
    want = whole.profile()
    for key in (*EXACT_KEYS, "distinct"):
        assert merged[key] == want[key], key
    if want["mean"] is not None:
        assert merged["mean"] == pytest.approx(want["mean"], rel=1e-6, abs=1e-9)
    if want["std"] is not None:
        assert merged["std"] == pytest.approx(want["std"], rel=1e-6, abs=1e-9)
    if len(array) - array.null_count <= TINY.exact_values:
        assert merged["quantiles"] == want["quantiles"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "bb", "ccc", "", "é"])), max_size=40))
def test_strings_merge_and_round_trip(values: list[str | None]) -> None:
    array = pa.array(values, pa.string())
    whole = ColumnSummary("s", "string").update(array)
    parts = ColumnSummary("s", "string").update(array.slice(0, 5))
    parts.merge(
        ColumnSummary.from_dict(ColumnSummary("s", "string").update(array.slice(5)).to_dict())
    )
    assert parts.profile() == whole.profile()
