"""Suggest a contract from a baseline dataset version, as Deequ's constraint suggestion does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._drift import categorical_reference, numeric_reference
from shipyard.contracts._patterns import infer_pattern
from shipyard.contracts._stats import NUMERIC
from shipyard.contracts._unique import sortable_numpy
from shipyard.data import ColumnType
from shipyard.data._schema import column_type
from shipyard.schemas.contract_document import parse_contract
from shipyard.schemas.contract_spec import Contract, Reference

MAX_ALLOWED_VALUES = 20
MAX_REFERENCE_CATEGORIES = 50


def suggest_contract(
    table: pa.Table,
    *,
    name: str,
    dataset: str | None = None,
    baseline: str | None = None,
) -> Contract:
    """A contract every row of ``table`` satisfies, with its distributions as drift reference.

    Per column: the type; ``not_null`` when nothing is missing, else ``completeness`` at the
    observed share rounded down; the observed ``range`` (severity warn) for numbers; the
    ``allowed_values`` of strings with at most 20 values that repeat, else a ``pattern``
    when one fits; ``unique`` for integer and string columns without repeats. Numeric
    columns (but integer keys) get quantile histograms, strings and booleans with at most
    50 values category frequencies, as the reference for drift.
    """
    columns: dict[str, Any] = {}
    references: dict[str, Any] = {}
    for field in table.schema:
        baseline_column = _Baseline(column_type(field.name, field.type), table.column(field.name))
        columns[field.name] = baseline_column.checks()
        if (reference := baseline_column.reference()) is not None:
            references[field.name] = reference
    return parse_contract(
        {
            "name": name,
            "dataset": dataset,
            "description": f"suggested from {baseline}" if baseline else "",
            "rows": {"min": 1},
            "columns": columns,
            "reference": {"dataset": baseline, "rows": table.num_rows, "columns": references},
        }
    )


def build_reference(
    table: pa.Table, columns: list[str] | None = None, *, baseline: str | None = None
) -> Reference:
    """Drift references of ``columns`` (default: every column that gets one when suggested)."""
    references: dict[str, Any] = {}
    for name in columns or table.column_names:
        field = table.schema.field(name)
        reference = _Baseline(column_type(name, field.type), table.column(name)).reference()
        if reference is not None:
            references[name] = reference
    return Reference.model_validate(
        {"dataset": baseline, "rows": table.num_rows, "columns": references}
    )


@dataclass
class _Baseline:
    """One baseline column, with what both checks and reference need computed once."""

    kind: ColumnType
    values: pa.ChunkedArray

    @cached_property
    def present(self) -> pa.ChunkedArray:
        return self.values.filter(pc.invert(pc.is_null(self.values, nan_is_null=True)))

    @cached_property
    def ordered(self) -> np.ndarray:
        return np.sort(sortable_numpy(self.present))

    @cached_property
    def distinct(self) -> int:
        return int(pc.count_distinct(self.present).as_py())

    @cached_property
    def is_key(self) -> bool:
        """An integer column without repeats: an identifier, not a measurement."""
        ordered = self.ordered
        return len(ordered) > 1 and not np.any(ordered[1:] == ordered[:-1])

    def checks(self) -> dict[str, Any]:
        rows, count = len(self.values), len(self.present)
        spec: dict[str, Any] = {"type": self.kind}
        if rows and count == rows:
            spec["not_null"] = True
        elif count and (share := math.floor(count / rows * 100) / 100) > 0:
            spec["completeness"] = share
        if count == 0:
            return spec
        if self.kind in NUMERIC:
            low, high = self.ordered[0].item(), self.ordered[-1].item()
            if _finite(low) and _finite(high):
                spec["range"] = {"min": low, "max": high, "severity": "warn"}
            if self.kind == "integer" and self.is_key:
                spec["unique"] = True
        elif self.kind == "string":
            if self.distinct <= MAX_ALLOWED_VALUES and self.distinct < count:
                spec["allowed_values"] = sorted(pc.unique(self.present).to_pylist())
            elif pattern := infer_pattern(self.present):
                spec["pattern"] = pattern
            if self.distinct == count and count > 1:
                spec["unique"] = True
        return spec

    def reference(self) -> dict[str, Any] | None:
        if len(self.present) == 0:
            return None
        if self.kind in NUMERIC and not (self.kind == "integer" and self.is_key):
            built = numeric_reference(self.ordered)
            return built.model_dump() if built is not None else None
        if self.kind in ("string", "boolean") and self.distinct <= MAX_REFERENCE_CATEGORIES:
            categories = categorical_reference(self.present)
            return categories.model_dump() if categories is not None else None
        return None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
