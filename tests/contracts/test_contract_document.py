"""Contracts as YAML: readable shorthand, exact round trips, and errors that name the key."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shipyard.contracts import (
    Contract,
    contract_digest,
    contract_yaml,
    parse_contract,
    suggest_contract,
)
from shipyard.errors import InvalidInput

DOCUMENT = """
name: orders
dataset: orders
rows: {min: 1}
columns:
  id: {type: integer, not_null: true, unique: true}
  amount:
    type: float
    completeness: 0.9
    range: {min: 0, max: 1000, severity: warn}
    mean: {min: 1.5}
  country:
    severity: warn
    allowed_values: [DE, FR]
    pattern: {regex: '^[A-Z]{2}$', severity: error}
  day: {type: date, range: {min: 2024-01-01}}
drift: {psi: 0.25, p_value: 0.01}
"""


def test_shorthand_and_severity() -> None:
    contract = parse_contract(DOCUMENT)
    amount = contract.columns["amount"]
    assert amount.completeness is not None and amount.completeness.min == 0.9
    assert amount.range is not None and amount.severity_of(amount.range) == "warn"
    assert amount.severity_of(amount.completeness) == "error"
    country = contract.columns["country"]
    assert country.allowed_values is not None
    assert country.severity_of(country.allowed_values) == "warn"
    assert country.pattern is not None and country.severity_of(country.pattern) == "error"
    assert contract.columns["id"].unique is not None
    day_range = contract.columns["day"].range
    assert day_range is not None and day_range.min == "2024-01-01"
    assert contract.drift.psi == 0.25 and contract.drift.ks == 0.1


def test_yaml_round_trips_and_stays_short() -> None:
    contract = parse_contract(DOCUMENT)
    text = contract_yaml(contract)
    assert parse_contract(text) == contract
    assert "not_null: true" in text and "unique: true" in text
    assert "completeness: 0.9" in text and "allowed_values: [DE, FR]" in text
    assert contract_digest(parse_contract(text)) == contract_digest(contract)


def test_suggested_contract_with_reference_round_trips() -> None:
    table = pa.table(
        {
            "x": [0.5, 1.5, 2.5, 3.5, None, 2.0] * 20,
            "tag": ["a", "b", "a", "c", "a", "b"] * 20,
            "flag": [True, False, True, True, False, True] * 20,
        }
    )
    contract = suggest_contract(table, name="t", dataset="t", baseline="t@1")
    assert contract.reference is not None and set(contract.reference.columns) == {
        "x",
        "tag",
        "flag",
    }
    assert parse_contract(contract_yaml(contract)) == contract
    assert isinstance(Contract.model_validate(contract.model_dump(mode="json")), Contract)


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [
        ("name: x\ncolums: {}", "colums", "unknown key 'colums'; did you mean 'columns'?"),
        ("name: x\ncolumns: {a: {rnage: {min: 1}}}", "columns.a.rnage", "did you mean 'range'"),
        ("name: x\ncolumns: {a: {range: {mn: 1}}}", "columns.a.range.mn", "did you mean 'min'"),
        ("name: x\nrows: {minimum: 1}", "rows.minimum", "unknown key 'minimum'"),
        ("name: x\ndrift: {psy: 0.1}", "drift.psy", "did you mean 'psi'"),
        ("columns: {}", "name", "is required"),
        ("name: x\ncolumns: {a: {type: text}}", "columns.a.type", "integer"),
        ("name: x\ncolumns: {a: {range: {min: 5, max: 1}}}", "columns.a.range", "greater"),
        ("name: x\ncolumns: {a: {range: {}}}", "columns.a.range", "give min, max or both"),
        ("name: x\ncolumns: {a: {pattern: '(['}}", "columns.a.pattern.regex", "regular"),
        ("name: x\ncolumns: {a: {completeness: 1.5}}", "columns.a.completeness.min", "1"),
        ("name: x\ncolumns: {a: {allowed_values: []}}", "columns.a.allowed_values.values", ""),
        ("name: bad name", "name", "not a valid name"),
        ("name: x\ncolumns: [a, b]", "columns", "dictionary"),
        ("- just\n- a list", "contract", "mapping"),
        ("name: x\ncolumns: {a: [", "contract", "invalid YAML at line"),
    ],
)
def test_bad_documents_name_the_key(document: str, field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_contract(document)
    assert caught.value.field == field
    assert message in caught.value.message


def test_reference_must_be_consistent() -> None:
    base = {"name": "x", "reference": {"rows": 3, "columns": {}}}
    bad_counts = {"kind": "numeric", "count": 3, "edges": [1.0, 2.0], "counts": [1, 1]}
    with pytest.raises(InvalidInput, match="needs 3 counts") as caught:
        parse_contract(base | {"reference": {"rows": 3, "columns": {"a": bad_counts}}})
    assert caught.value.field == "reference.columns.a.numeric"
    bad_kind = {"kind": "histogram", "count": 1}
    with pytest.raises(InvalidInput) as caught:
        parse_contract(base | {"reference": {"rows": 1, "columns": {"a": bad_kind}}})
    assert caught.value.field == "reference.columns.a"
