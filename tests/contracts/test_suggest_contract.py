"""Suggested contracts hold on their baseline and describe it like Deequ's suggestions."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from shipyard.contracts import infer_pattern, suggest_contract, validate_table


def baseline(rows: int = 400) -> pa.Table:
    rng = np.random.default_rng(11)
    amount = rng.gamma(2.0, 10.0, rows)
    amount[::50] = np.nan
    return pa.table(
        {
            "id": rng.permutation(rows),
            "amount": amount,
            "country": rng.choice(["DE", "FR", "US"], rows),
            "sku": [f"{'ABCD'[n % 4]}{'XYZW'[n % 4]}{n:04d}" for n in range(rows)],
            "email": [f"user{i}@example.com" for i in range(rows)],
            "note": [None if i % 3 else f"n{i}" for i in range(rows)],
            "flag": rng.random(rows) < 0.3,
        }
    )


def test_suggestion_describes_the_baseline() -> None:
    table = baseline()
    contract = suggest_contract(table, name="orders", dataset="orders", baseline="orders@1")
    columns = contract.columns
    assert {name: c.type for name, c in columns.items()} == {
        "id": "integer",
        "amount": "float",
        "country": "string",
        "sku": "string",
        "email": "string",
        "note": "string",
        "flag": "boolean",
    }
    assert columns["id"].not_null is not None and columns["id"].unique is not None
    assert columns["amount"].not_null is None
    assert columns["amount"].completeness is not None and columns["amount"].completeness.min == 0.98
    amount_range = columns["amount"].range
    assert amount_range is not None and amount_range.severity == "warn"
    assert amount_range.min == pytest.approx(np.nanmin(table["amount"].to_numpy()))
    assert columns["country"].allowed_values is not None
    assert columns["country"].allowed_values.values == ["DE", "FR", "US"]
    assert columns["country"].unique is None
    assert columns["sku"].pattern is not None and columns["sku"].pattern.regex == r"^[A-Z]{2}\d{4}$"
    assert columns["sku"].unique is not None
    assert columns["email"].pattern is not None
    assert columns["note"].completeness is not None and columns["note"].completeness.min == 0.33
    assert contract.rows is not None and contract.rows.min == 1
    reference = contract.reference
    assert reference is not None and reference.dataset == "orders@1"
    assert set(reference.columns) == {"amount", "country", "flag"}
    assert reference.columns["amount"].count == 392
    assert reference.columns["flag"].kind == "categorical"


def test_suggested_contract_passes_on_its_baseline() -> None:
    table = baseline()
    report = validate_table(suggest_contract(table, name="orders"), table)
    assert report.status == "passed", [c.label for c in report.failures()]
    assert all(not d.drifted for d in report.drift)


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        (["AB1234", "CD5678"], r"^[A-Z]{2}\d{4}$"),
        (["a-1", "bb-22", "c-333"], r"^[a-z]{1,2}\-\d{1,3}$"),
        (["2024.01", "2025.12"], r"^\d{4}\.\d{2}$"),
        (["Paris", "Oslo"], "^[A-Z][a-z]{3,4}$"),
        (["AB12", "1234"], None),
        (["x", ""], None),
        ([], None),
    ],
)
def test_infer_pattern(values: list[str], pattern: str | None) -> None:
    assert infer_pattern(pa.array(values, pa.string())) == pattern
