"""The streaming profile: exact where it can be, and a stated, close estimate where it cannot."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.data import normalize_table, profile_table
from shipyard.datasets._batch_profile import BatchProfiler
from shipyard.statistics import PROFILE, DistinctSketch
from shipyard.statistics._hashing import mix64 as _mix64

RESERVOIR_SIZE = PROFILE.exact_values
SKETCH_SIZE = PROFILE.distinct_k
MAX_TRACKED_VALUES = PROFILE.top_cap


def _profile(table: pa.Table, chunk: int) -> dict[str, dict[str, object]]:
    profiler = BatchProfiler(table.schema)
    for batch in table.to_batches(max_chunksize=chunk):
        profiler.update(pa.Table.from_batches([batch]))
    result = profiler.result()
    assert result["rows"] == table.num_rows
    return {c["name"]: c for c in result["columns"]} | {"_method": result["method"]}


def test_small_tables_match_the_exact_profile() -> None:
    table = normalize_table(
        pa.table(
            {
                "x": [1.5, float("nan"), None, -2.0, 3.25, 3.25],
                "n": [3, 1, None, 1, 2, 7],
                "s": ["b", "a", None, "a", "ccc", "b"],
                "flag": [True, False, None, True, True, False],
                "ts": pa.array([1, 2, 3, None, 5, 6], pa.timestamp("ms")),
            }
        )
    )
    exact = {c.name: c.model_dump(mode="json") for c in profile_table(table).columns}
    streamed = _profile(table, chunk=2)
    assert streamed["_method"]["approximate"] == {}  # type: ignore[index]
    for name, want in exact.items():
        for key, value in want.items():
            got = streamed[name][key]
            if isinstance(value, float) or (key == "quantiles" and value is not None):
                assert got == pytest.approx(value, rel=1e-12), (name, key)
            else:
                assert got == value, (name, key)


def test_large_columns_are_estimated_closely_and_say_so() -> None:
    rows = max(RESERVOIR_SIZE, SKETCH_SIZE, MAX_TRACKED_VALUES) * 3
    rng = np.random.default_rng(3)
    values = rng.normal(50, 10, rows)
    table = pa.table(
        {
            "v": values,
            "id": np.arange(rows),
            "key": pa.array(np.char.add("k", (np.arange(rows) % 150_000).astype(str))),
        }
    )
    streamed = _profile(table, chunk=50_000)
    approximate = streamed["_method"]["approximate"]  # type: ignore[index]
    assert approximate == {
        "v": ["distinct", "quantiles"],
        "id": ["distinct", "quantiles"],
        "key": ["distinct", "top_values"],
    }
    v, ident, key = streamed["v"], streamed["id"], streamed["key"]
    assert v["count"] == rows and v["mean"] == pytest.approx(values.mean(), rel=1e-9)
    assert v["std"] == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert (v["min"], v["max"]) == (values.min(), values.max())
    median = v["quantiles"]["p50"]  # type: ignore[index]
    assert median == pytest.approx(np.median(values), abs=0.2)
    assert ident["distinct"] == pytest.approx(rows, rel=0.05)
    assert key["distinct"] == pytest.approx(150_000, rel=0.05)
    assert len(key["top_values"]) == 10  # type: ignore[arg-type]


@pytest.mark.parametrize("cardinality", [10, 1_000, SKETCH_SIZE + 7, 70_000, 2**62])
def test_distinct_sketch_keeps_exactly_the_smallest_distinct_hashes(cardinality: int) -> None:
    """The selection shortcut for large batches keeps what sorting every batch would."""
    rng = np.random.default_rng(cardinality % 1000)
    sketch = DistinctSketch(SKETCH_SIZE)
    seen = np.empty(0, dtype=np.uint64)
    for size in (5, 200_000, 90_000, 300_000):
        hashes = _mix64(rng.integers(0, cardinality, size).astype(np.uint64))
        sketch.add(hashes)
        seen = np.unique(np.concatenate([seen, hashes]))
        assert np.array_equal(sketch.smallest, seen[:SKETCH_SIZE])
