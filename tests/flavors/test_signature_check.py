"""The one signature rule: what each input type accepts, and how data conforms."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from shipyard.errors import InvalidInput
from shipyard.flavors import (
    ColumnSpec,
    ModelSignature,
    accepts,
    batch_conformance,
    check_conforms,
    conformance,
)
from shipyard.flavors._signature_check import python_types

SIGNATURE = ModelSignature(
    inputs=[
        ColumnSpec(name="f", type="float"),
        ColumnSpec(name="i", type="integer"),
        ColumnSpec(name="b", type="boolean"),
        ColumnSpec(name="s", type="string"),
        ColumnSpec(name="t", type="timestamp"),
    ],
    task="regression",
    target="y",
)


@pytest.mark.parametrize(
    ("expected", "given", "ok"),
    [
        ("float", "float", True),
        ("float", "integer", True),
        ("float", "boolean", False),
        ("integer", "boolean", False),
        ("integer", "float", False),
        ("boolean", "integer", False),
        ("string", "float", False),
        ("timestamp", "date", True),
    ],
)
def test_the_rule(expected: str, given: str, ok: bool) -> None:
    assert accepts(expected, given) is ok  # type: ignore[arg-type]


def test_json_values_follow_the_rule() -> None:
    assert python_types("float") == {int, float}
    assert python_types("integer") == {int}
    assert python_types("boolean") == {bool}


def test_conformance_of_a_batch() -> None:
    batch = pa.table(
        {
            "f": [True],
            "i": [1],
            "s": ["a"],
            "t": [datetime.date(2024, 1, 1)],
            "extra": [1.0],
        }
    )
    found = batch_conformance(SIGNATURE, batch)
    assert (found.missing, found.wrong, found.extra) == (
        ["b"],
        [("f", "float", "boolean")],
        ["extra"],
    )
    assert not found.ok and found.violations == 2
    assert conformance(
        SIGNATURE, {"f": "integer", "i": "integer", "b": "boolean", "s": "string", "t": "timestamp"}
    ).ok


def test_check_names_every_problem_on_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_conforms(SIGNATURE, {"f": "boolean"}, what="the rows", field="input", noun="dataset")
    message = str(refused.value)
    assert refused.value.field == "input"
    assert "missing input columns ['i', 'b', 's', 't']" in message
    assert "f (model expects float, dataset has boolean)" in message
