"""The validation engine: each check's verdict, counts, observed values and samples."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shipyard.contracts import (
    CheckResult,
    Validation,
    ValidationReport,
    parse_contract,
    validate_parquet,
    validate_table,
)
from shipyard.errors import InvalidInput

TABLE = pa.table(
    {
        "id": [1, 2, 3, 3, 5, 6, 7, 7],
        "amount": [10.0, float("nan"), 30.0, -4.0, None, 60.0, 2000.0, 80.0],
        "country": ["DE", "FR", "XX", "DE", None, "FR", "YY", "XX"],
        "sku": ["AB1234", "CD5678", "bad", "EF9012", "GH3456", None, "IJ7890", "KL12345"],
        "day": pa.array([datetime.date(2024, 1, d) for d in range(1, 9)], pa.date32()),
    }
)
CONTRACT = parse_contract(
    {
        "name": "orders",
        "rows": {"min": 10},
        "columns": {
            "id": {"type": "integer", "not_null": True, "unique": True},
            "amount": {
                "type": "float",
                "completeness": 0.8,
                "range": {"min": 0, "max": 1000},
                "mean": {"max": 100, "severity": "warn"},
            },
            "country": {"allowed_values": ["DE", "FR"], "not_null": {"severity": "warn"}},
            "sku": {"pattern": r"^[A-Z]{2}\d{4}$", "length": {"max": 6}},
            "day": {"type": "date", "range": {"min": "2024-01-03", "max": "2024-01-07"}},
        },
    }
)


def result(report: ValidationReport, label: str) -> CheckResult:
    return next(c for c in report.checks if c.label == label)


def test_every_check_reports_counts_observed_and_samples() -> None:
    report = validate_table(CONTRACT, TABLE, contract_ref="orders@1", dataset_ref="t@1")
    assert (report.status, report.rows, report.contract, report.dataset) == (
        "failed",
        8,
        "orders@1",
        "t@1",
    )
    rows = result(report, "rows")
    assert (rows.passed, rows.observed, rows.failing_rows) == (False, 8, None)
    assert result(report, "id.type").passed and result(report, "id.not_null").passed

    unique = result(report, "id.unique")
    assert (unique.passed, unique.failing_rows, unique.observed) == (
        False,
        4,
        {"duplicated_values": 2},
    )
    assert unique.sample == [{"id": 3, "occurrences": 2}, {"id": 7, "occurrences": 2}]

    completeness = result(report, "amount.completeness")
    assert completeness.passed is False and completeness.failing_rows == 2
    assert completeness.observed == {"share": 0.75}

    amount_range = result(report, "amount.range")
    assert (amount_range.failing_rows, amount_range.failing_share) == (2, 0.25)
    assert amount_range.observed == {"min": -4.0, "max": 2000.0}
    assert [row["_row"] for row in amount_range.sample] == [3, 6]
    assert amount_range.sample[0] == {
        "_row": 3,
        "id": 3,
        "amount": -4.0,
        "country": "DE",
        "sku": "EF9012",
        "day": "2024-01-04",
    }
    mean = result(report, "amount.mean")
    assert mean.severity == "warn" and mean.passed is False
    assert mean.observed == {"mean": pytest.approx(2176 / 6)}

    allowed = result(report, "country.allowed_values")
    assert allowed.failing_rows == 3
    assert allowed.observed == {"unexpected": {"XX": 2, "YY": 1}}
    not_null = result(report, "country.not_null")
    assert (not_null.severity, not_null.failing_rows) == ("warn", 1)

    pattern = result(report, "sku.pattern")
    assert pattern.failing_rows == 2 and [r["sku"] for r in pattern.sample] == ["bad", "KL12345"]
    assert result(report, "sku.length").failing_rows == 1

    day = result(report, "day.range")
    assert day.failing_rows == 3 and day.observed == {"min": "2024-01-01", "max": "2024-01-08"}

    statistics = {c.name: c for c in report.columns}
    assert statistics["amount"].missing == 2 and statistics["amount"].count == 6
    assert statistics["amount"].std == pytest.approx(
        pc.stddev(pa.array([10.0, 30, -4, 60, 2000, 80]), ddof=1).as_py()
    )
    assert statistics["sku"].max_length == 7


def test_passing_checks_keep_no_samples_and_warnings_only_warn() -> None:
    contract = parse_contract(
        {
            "name": "c",
            "columns": {
                "amount": {"completeness": 0.7, "range": {"min": -10, "severity": "warn"}},
                "id": {"not_null": True},
            },
        }
    )
    report = validate_table(contract, TABLE)
    assert report.status == "passed"
    assert all(c.passed and c.sample == [] for c in report.checks)
    warned = validate_table(
        parse_contract({"name": "c", "columns": {"id": {"range": {"max": 5}, "severity": "warn"}}}),
        TABLE,
    )
    assert warned.status == "warned" and warned.passed


def test_parts_and_streamed_parquet_agree_with_one_table(tmp_path: Path) -> None:
    whole = validate_table(CONTRACT, TABLE)
    run = Validation(CONTRACT, TABLE.schema)
    parted = run.run([TABLE.slice(0, 3), TABLE.slice(3, 1), TABLE.slice(4)])
    path = tmp_path / "t.parquet"
    pq.write_table(TABLE, path, row_group_size=3)
    streamed = validate_parquet(CONTRACT, path)
    for other in (parted, streamed):
        assert [c.model_dump() for c in other.checks] == [c.model_dump() for c in whole.checks]
        assert other.columns == whole.columns


def test_row_failures_label_every_failing_row() -> None:
    run = Validation(CONTRACT, TABLE.schema)
    report = run.run([TABLE])
    reasons = run.row_failures(TABLE, report).to_pylist()
    assert reasons[5] is None
    assert reasons[0] == "day.range"
    assert reasons[1] == "amount.completeness; day.range"
    assert reasons[4] == "amount.completeness"
    assert reasons[2] == "id.unique; country.allowed_values; sku.pattern"
    assert reasons[7] == "id.unique; country.allowed_values; sku.length; sku.pattern; day.range"
    assert "country.not_null" not in " ".join(r for r in reasons if r)
    assert "amount.mean" not in " ".join(r for r in reasons if r)


def test_wrong_types_fail_their_checks_without_crashing() -> None:
    contract = parse_contract(
        {
            "name": "c",
            "columns": {
                "country": {"type": "integer", "range": {"min": 0}, "mean": {"min": 1}},
                "amount": {"pattern": "^x$", "allowed_values": ["a"]},
                "day": {"range": {"min": 5}},
            },
        }
    )
    report = validate_table(contract, TABLE)
    assert report.status == "failed"
    assert result(report, "country.type").observed == "string"
    for label in ("country.range", "country.mean", "amount.pattern", "amount.allowed_values"):
        assert result(report, label).message.startswith("not evaluated:"), label
    assert "ISO 8601" in result(report, "day.range").message


def test_missing_column_is_an_error_naming_it() -> None:
    contract = parse_contract({"name": "c", "columns": {"amuont": {"not_null": True}}})
    with pytest.raises(InvalidInput) as caught:
        validate_table(contract, TABLE)
    assert caught.value.field == "columns.amuont"
    assert "'amuont' is not in the dataset" in caught.value.message
    referenced = parse_contract(
        {
            "name": "c",
            "reference": {
                "rows": 1,
                "columns": {"gone": {"kind": "categorical", "count": 1, "values": {"a": 1}}},
            },
        }
    )
    with pytest.raises(InvalidInput) as caught:
        validate_table(referenced, TABLE)
    assert caught.value.field == "reference.columns.gone"


def test_unique_across_parts_for_strings_and_timestamps() -> None:
    table = pa.table(
        {
            "key": ["a", "b", "c", "a", "d", None, None],
            "at": pa.array([1, 2, 3, 4, 5, 6, 2], pa.timestamp("s")),
        }
    )
    contract = parse_contract(
        {"name": "c", "columns": {"key": {"unique": True}, "at": {"unique": True}}}
    )
    report = Validation(contract, table.schema).run(
        [table.slice(0, 2), table.slice(2, 3), table.slice(5)]
    )
    key, at = result(report, "key.unique"), result(report, "at.unique")
    assert (key.failing_rows, key.sample) == (2, [{"key": "a", "occurrences": 2}])
    assert (at.failing_rows, at.sample) == (2, [{"at": "1970-01-01T00:00:02", "occurrences": 2}])


def test_empty_table() -> None:
    table = TABLE.slice(0, 0)
    report = validate_table(CONTRACT, table)
    assert report.rows == 0
    assert result(report, "rows").passed is False
    assert result(report, "amount.mean").passed is False
    assert result(report, "id.unique").passed


@pytest.mark.parametrize(
    "regex", [r"^[A-Z]{2}\d{4}$", r"^\d{4}\.\d{2}$", r"^AB-[a-z]{3}$", r"^[a-z]{1,2}\d$"]
)
def test_fast_fixed_patterns_agree_with_re2(regex: str) -> None:
    alphabet = [*list("AZaz09.-B[@`{/: "), "Ä", "é"]
    rng = np.random.default_rng(1)
    words = ["".join(rng.choice(alphabet, size=rng.integers(0, 9))) for _ in range(3000)]
    words += ["AB1234", "2024.01", "AB-xyz", "ab1", None]  # type: ignore[list-item]
    values = pa.chunked_array([pa.array(words[:1500]), pa.array(words[1500:])])
    contract = parse_contract({"name": "p", "columns": {"w": {"pattern": regex}}})
    run = Validation(contract, pa.schema([("w", pa.string())]))
    report = run.run([pa.table({"w": values})])
    expected = pc.sum(
        pc.fill_null(pc.invert(pc.match_substring_regex(values, regex)), False)
    ).as_py()
    assert result(report, "w.pattern").failing_rows == expected
    uniform = pa.array(["AB1234", "CD5678", "ab1234", "EF90x2"] * 50)
    expected = pc.sum(pc.invert(pc.match_substring_regex(uniform, regex))).as_py()
    report = run.run([pa.table({"w": uniform})])
    assert result(report, "w.pattern").failing_rows == expected
