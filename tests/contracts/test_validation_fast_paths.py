"""The engine's numpy fast paths agree with plain Arrow and Python on the same data.

Each test builds data that reaches one fast path (and its fallbacks), and compares the
report with what a direct count over the values gives.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from shipyard.contracts import CheckResult, Validation, ValidationReport, parse_contract
from shipyard.contracts._check_base import first_true
from shipyard.contracts._fixed_pattern import BLOCK_ROWS


def result(report: ValidationReport, label: str) -> CheckResult:
    return next(c for c in report.checks if c.label == label)


def run_in_parts(spec: dict[str, object], table: pa.Table, cuts: list[int]) -> ValidationReport:
    """Validate ``table`` as the parts between ``cuts``, each a slice (non-zero offsets)."""
    contract = parse_contract({"name": "fast", "columns": spec})
    bounds = [0, *cuts, table.num_rows]
    parts = [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    return Validation(contract, table.schema).run(parts)


def expected_duplicates(values: list[int]) -> tuple[int, int, list[dict[str, int]]]:
    counts = Counter(values)
    repeated = sorted(v for v, c in counts.items() if c > 1)
    sample = [{"id": v, "occurrences": counts[v]} for v in repeated[:5]]
    return sum(counts[v] for v in repeated), len(repeated), sample


@pytest.mark.parametrize(
    "placement",
    ["none", "across_parts", "inside_first_part", "never_again", "many", "negative"],
)
def test_dense_unique_counts_every_repeat(placement: str) -> None:
    rng = np.random.default_rng(3)
    values = rng.permutation(20_000)
    if placement == "across_parts":
        values[[15_000, 19_000]] = values[10]
    elif placement == "inside_first_part":  # the value's first part holds it twice
        values[[20, 30, 12_000]] = values[10]
    elif placement == "never_again":  # a repeat that no later part holds
        values[20] = values[10]
    elif placement == "many":
        values = rng.integers(0, 15_000, 20_000)
    elif placement == "negative":
        values = values - 50_000
        values[[5, 7, 9_000]] = values[3]
    table = pa.table({"id": pa.array(values, pa.int64())})
    report = run_in_parts({"id": {"unique": True}}, table, [5_000, 11_000])
    found = result(report, "id.unique")
    rows, distinct, sample = expected_duplicates(values.tolist())
    assert (found.failing_rows, found.observed, found.sample) == (
        rows,
        {"duplicated_values": distinct},
        sample,
    )


def test_range_with_nulls_skips_null_slots() -> None:
    values = [5.0, None, -1.0, 2000.0, None, 7.0, 1e9, None, 3.0, -0.5] * 300
    table = pa.table({"x": pa.array(values, pa.float64())})
    report = run_in_parts({"x": {"range": {"min": 0, "max": 1000}}}, table, [7, 1_001])
    found = result(report, "x.range")
    outside = [i for i, v in enumerate(values) if v is not None and not 0 <= v <= 1000]
    assert found.failing_rows == len(outside)
    assert [row["_row"] for row in found.sample] == outside[:5]


def test_fixed_pattern_counts_failures_in_every_block() -> None:
    rng = np.random.default_rng(5)
    rows = 2 * BLOCK_ROWS + 777
    letters = rng.integers(65, 91, (rows, 2))
    digits = rng.integers(48, 58, (rows, 4))
    grid = np.concatenate([letters, digits], axis=1).astype(np.uint8)
    broken = rng.choice(rows, 300, replace=False)
    grid[broken, rng.integers(0, 6, 300)] = ord("z")
    grid[[0, rows - 1], 5] = ord("!")
    skus = [bytes(row).decode() for row in grid]
    table = pa.table({"sku": skus})
    report = run_in_parts({"sku": {"pattern": r"^[A-Z]{2}\d{4}$"}}, table, [BLOCK_ROWS + 3])
    found = result(report, "sku.pattern")
    matched = pc.match_substring_regex(table["sku"], r"^[A-Z]{2}\d{4}$")
    failing = np.flatnonzero(~matched.to_numpy()).tolist()
    assert found.failing_rows == len(failing)
    assert [row["_row"] for row in found.sample] == failing[:5]


def test_two_letter_codes_count_unexpected_values() -> None:
    codes = (["DE", "FR", "US"] * 3_000) + ["XX", "DE", "YY", "XX", "ZZ"] * 40
    table = pa.table({"country": codes[::-1]})
    report = run_in_parts({"country": {"allowed_values": ["DE", "FR", "US"]}}, table, [10, 5_000])
    found = result(report, "country.allowed_values")
    unexpected = Counter(c for c in codes if c not in {"DE", "FR", "US"})
    rows = [i for i, c in enumerate(codes[::-1]) if c in unexpected]
    assert found.failing_rows == sum(unexpected.values())
    assert found.observed == {"unexpected": dict(unexpected.most_common(10))}
    assert [row["_row"] for row in found.sample] == rows[:5]


@pytest.mark.parametrize("odd", [float("nan"), float("inf")])
def test_floats_with_nan_or_infinity_late_in_a_part(odd: float) -> None:
    values: list[float | None] = [1.0, 2.0, None, 4.0] * 500
    values[1_777] = odd
    table = pa.table({"x": pa.array(values, pa.float64())})
    report = run_in_parts({"x": {"not_null": True}}, table, [1_000])
    found = result(report, "x.not_null")
    missing = [i for i, v in enumerate(values) if v is None or math.isnan(v)]
    assert found.failing_rows == len(missing)
    column = next(c for c in report.columns if c.name == "x")
    shown_max = 4.0 if math.isnan(odd) else None  # infinity is shown as no number
    assert (column.missing, column.max) == (len(missing), shown_max)


def test_first_true_reads_sliced_bits() -> None:
    rng = np.random.default_rng(9)
    for _ in range(200):
        bits = rng.random(300) < rng.random()
        start = int(rng.integers(0, 300))
        mask = pa.array(bits).slice(start, int(rng.integers(0, 300 - start + 1)))
        limit = int(rng.integers(1, 8))
        expected = np.flatnonzero(np.asarray(mask.to_pylist(), bool))[:limit]
        assert first_true(mask, limit).tolist() == expected.tolist()
