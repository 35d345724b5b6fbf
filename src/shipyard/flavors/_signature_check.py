"""The one rule for which data a model's signature accepts: serving, batch and edge use it.

A signature column accepts data of its own type and, for ``float``, integers (they widen
to float without loss) and, for ``timestamp``, dates. Booleans are never accepted for a
numeric column, nor numbers for a boolean one: a model trained on a boolean column has a
``boolean`` input, so a boolean arriving where the model was trained on numbers means the
data changed shape (a swapped or re-encoded column), which should be refused and seen, not
silently read as 0/1. Serving (JSON values and V2 datatypes), batch transform (dataset
schema) and edge parity (parity data) apply this same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from shipyard.errors import InvalidInput
from shipyard.flavors._base import ColumnType, ModelSignature, arrow_column_type

ACCEPTS: Mapping[str, frozenset[str]] = {
    "float": frozenset({"float", "integer"}),
    "integer": frozenset({"integer"}),
    "boolean": frozenset({"boolean"}),
    "string": frozenset({"string"}),
    "timestamp": frozenset({"timestamp", "date"}),
}

# The JSON value types each column type takes (bool is not an int here).
_PYTHON_KINDS: Mapping[type, str] = {int: "integer", float: "float", bool: "boolean", str: "string"}


def accepts(expected: ColumnType, given: str) -> bool:
    """Whether a signature column of type ``expected`` accepts data of column type ``given``."""
    return given in ACCEPTS[expected]


def python_types(expected: ColumnType) -> frozenset[type]:
    """The JSON scalar types (int, float, bool, str) a column of type ``expected`` accepts."""
    return frozenset(t for t, kind in _PYTHON_KINDS.items() if accepts(expected, kind))


@dataclass(frozen=True)
class Conformance:
    """How some data's columns conform to a signature's inputs."""

    missing: list[str] = field(default_factory=list)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)  # name, expected, given
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every input is present with an accepted type (extra columns are fine)."""
        return not self.missing and not self.wrong

    @property
    def violations(self) -> int:
        """Missing or wrongly typed input columns."""
        return len(self.missing) + len(self.wrong)

    def describe(self, noun: str = "data") -> str:
        """The problems in one line: missing columns, then columns of the wrong type."""
        problems = []
        if self.missing:
            problems.append(f"missing input columns {self.missing}")
        if self.wrong:
            shown = "; ".join(
                f"{name} (model expects {want}, {noun} has {got})" for name, want, got in self.wrong
            )
            problems.append(f"columns of the wrong type: {shown}")
        return " | ".join(problems)


def conformance(signature: ModelSignature, kinds: Mapping[str, str]) -> Conformance:
    """How columns of the given types (name -> column type) conform to ``signature``."""
    expected = {c.name for c in signature.inputs}
    return Conformance(
        missing=[c.name for c in signature.inputs if c.name not in kinds],
        wrong=[
            (c.name, c.type, kinds[c.name])
            for c in signature.inputs
            if c.name in kinds and not accepts(c.type, kinds[c.name])
        ],
        extra=[name for name in kinds if name not in expected],
    )


def schema_kinds(schema: pa.Schema) -> dict[str, str]:
    """Column types of an Arrow schema as signatures name them (dates kept as ``date``)."""
    return {
        f.name: "date" if pa.types.is_date(f.type) else arrow_column_type(f.type) or str(f.type)
        for f in schema
    }


def batch_conformance(signature: ModelSignature, batch: pa.Table | pa.RecordBatch) -> Conformance:
    """How a table or record batch conforms to ``signature``."""
    return conformance(signature, schema_kinds(batch.schema))


def check_conforms(
    signature: ModelSignature,
    kinds: Mapping[str, str],
    *,
    what: str,
    field: str,
    noun: str = "data",
) -> None:
    """InvalidInput (on ``field``) listing every input column ``what`` lacks or mistypes."""
    found = conformance(signature, kinds)
    if found.ok:
        return
    raise InvalidInput(
        f"{what} do not match the model's signature: {found.describe(noun)}; "
        f"the model takes {signature.input_names}, the {noun} has {list(kinds)}",
        field=field,
    )
