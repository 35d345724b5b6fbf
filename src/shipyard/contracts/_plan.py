"""Bind a contract to a table's columns: which checks run on which column, and which cannot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from shipyard.contracts._check_base import ColumnCheck, NotEvaluable
from shipyard.contracts._checks import ROW_CHECKS
from shipyard.contracts._stats import NUMERIC, Moments
from shipyard.contracts._unique import UniqueCheck
from shipyard.data import ColumnType
from shipyard.errors import InvalidInput
from shipyard.schemas.contract_report import CheckResult
from shipyard.schemas.contract_spec import (
    CategoricalReference,
    ColumnContract,
    Contract,
    NumericReference,
)

CATEGORICAL: frozenset[ColumnType] = frozenset({"string", "boolean", "integer"})


@dataclass
class ColumnPlan:
    """Everything evaluated on one column, and what it has gathered so far."""

    name: str
    kind: ColumnType
    arrow_type: pa.DataType | None
    checks: list[ColumnCheck] = field(default_factory=list)
    unique: UniqueCheck | None = None
    numeric_reference: NumericReference | None = None
    categorical_reference: CategoricalReference | None = None
    moments: Moments = field(default_factory=Moments)
    failing: list[int] = field(default_factory=list)
    gathered: list[Any] = field(default_factory=list)
    drift_counts: np.ndarray | None = None
    unique_parts: list[Any] = field(default_factory=list)

    @property
    def edges(self) -> np.ndarray:
        assert self.numeric_reference is not None
        return np.asarray(self.numeric_reference.edges, dtype=np.float64)

    @property
    def categories(self) -> pa.Array:
        assert self.categorical_reference is not None
        return pa.array(list(self.categorical_reference.values), pa.string())

    @property
    def needs_present(self) -> bool:
        """Whether anything needs the values without nulls (beyond Arrow's aggregates)."""
        return self.needs_order or self.unique is not None or self.categorical_reference is not None

    @property
    def needs_order(self) -> bool:
        """Whether the values are sorted: to count them into the reference's bins."""
        return self.numeric_reference is not None


@dataclass
class Plan:
    """The column plans, in contract order, and the checks that could not be planned."""

    columns: list[ColumnPlan]
    results: dict[str, list[CheckResult]]


def plan_contract(
    contract: Contract,
    types: Mapping[str, ColumnType],
    arrow_types: Mapping[str, pa.DataType] | None = None,
) -> Plan:
    """Plan every column the contract names; InvalidInput for the first missing column."""
    check_columns_exist(contract, types)
    plans: list[ColumnPlan] = []
    results: dict[str, list[CheckResult]] = {}
    for name in contract.referenced_columns():
        kind = types[name]
        plan = ColumnPlan(name, kind, (arrow_types or {}).get(name))
        column = contract.columns.get(name)
        results[name] = _plan_checks(plan, column) if column is not None else []
        results[name] += _plan_reference(plan, contract)
        plans.append(plan)
    return Plan(plans, results)


def check_columns_exist(contract: Contract, types: Mapping[str, ColumnType]) -> None:
    """InvalidInput naming the first column the contract refers to that is not in ``types``."""
    known = ", ".join(repr(n) for n in list(types)[:20])
    for name in contract.columns:
        if name not in types:
            raise InvalidInput(
                f"column {name!r} is not in the dataset (columns: {known})",
                field=f"columns.{name}",
            )
    for name in contract.reference.columns if contract.reference else {}:
        if name not in types:
            raise InvalidInput(
                f"column {name!r} is not in the dataset (columns: {known})",
                field=f"reference.columns.{name}",
            )


def unplannable(contract: Contract, types: Mapping[str, ColumnType]) -> list[CheckResult]:
    """Checks that cannot run on columns of these types (for refusing a contract early)."""
    plan = plan_contract(contract, types)
    return [r for results in plan.results.values() for r in results if r.message]


def _plan_checks(plan: ColumnPlan, column: ColumnContract) -> list[CheckResult]:
    results: list[CheckResult] = []
    if column.type is not None:
        results.append(
            CheckResult(
                column=plan.name,
                check="type",
                severity=column.severity,
                passed=column.type == plan.kind,
                expected=column.type,
                observed=plan.kind,
            )
        )
    for name, spec in column.checks().items():
        severity = column.severity_of(spec)
        if name == "unique":
            plan.unique = UniqueCheck(plan.name, severity, plan.kind)
            continue
        try:
            check = ROW_CHECKS[name](plan.name, spec, severity, plan.kind, plan.arrow_type)
        except NotEvaluable as problem:
            results.append(
                CheckResult(
                    column=plan.name,
                    check=name,
                    severity=severity,
                    passed=False,
                    expected=spec.model_dump(mode="json", exclude_none=True),
                    message=f"not evaluated: {problem}",
                )
            )
            continue
        plan.checks.append(check)
    return results


def _plan_reference(plan: ColumnPlan, contract: Contract) -> list[CheckResult]:
    reference = contract.reference.columns.get(plan.name) if contract.reference else None
    if reference is None:
        return []
    if isinstance(reference, NumericReference) and plan.kind in NUMERIC:
        plan.numeric_reference = reference
        return []
    if isinstance(reference, CategoricalReference) and plan.kind in CATEGORICAL:
        plan.categorical_reference = reference
        return []
    return [
        CheckResult(
            column=plan.name,
            check="drift",
            severity=contract.drift.severity,
            passed=False,
            expected=f"{reference.kind} reference",
            observed=plan.kind,
            message=f"not evaluated: a {reference.kind} reference needs another column type",
        )
    ]
