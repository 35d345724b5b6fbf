"""What a validation produces: a result per check, drift per column, statistics per column."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shipyard.schemas._base import WireModel
from shipyard.schemas.contract_spec import Severity
from shipyard.schemas.datasets import ColumnType

Status = Literal["passed", "warned", "failed"]


class CheckResult(WireModel):
    """One check: pass or fail, what was expected and observed, and the rows that fail it.

    ``failing_rows`` and ``sample`` apply to row-level checks only; for ``unique`` the
    sample lists duplicated values and how often each occurs.
    """

    column: str | None = None
    check: str
    severity: Severity
    passed: bool
    expected: Any = None
    observed: Any = None
    failing_rows: int | None = None
    failing_share: float | None = None
    sample: list[dict[str, Any]] = Field(default_factory=list)
    message: str = ""

    @property
    def label(self) -> str:
        return f"{self.column}.{self.check}" if self.column else self.check


class DriftBin(WireModel):
    """One bar of a drift histogram: a value range or a category, with both shares."""

    label: str
    lower: float | None = None
    upper: float | None = None
    reference: float
    current: float


class DriftResult(WireModel):
    """How far one column moved from the contract's reference, and whether that is drift."""

    column: str
    kind: Literal["numeric", "categorical"]
    reference_count: int
    current_count: int
    statistics: dict[str, float | None]
    thresholds: dict[str, float]
    drifted: bool
    severity: Severity
    reasons: list[str] = Field(default_factory=list)
    bins: list[DriftBin] = Field(default_factory=list)


class ColumnStatistics(WireModel):
    """The profile of one validated column; fields that do not apply are None."""

    name: str
    type: ColumnType
    count: int
    missing: int
    min: float | int | str | None = None
    max: float | int | str | None = None
    mean: float | None = None
    std: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    top_values: dict[str, int] | None = None


class ValidationReport(WireModel):
    """The outcome of validating a dataset version (or a table) against a contract version.

    ``status`` is ``failed`` when a check or drift of severity ``error`` failed, ``warned``
    when only ``warn`` ones did, ``passed`` otherwise.
    """

    id: int | None = None
    dataset: str | None = None
    contract: str
    status: Status
    rows: int
    checks: list[CheckResult]
    drift: list[DriftResult] = Field(default_factory=list)
    drift_method: str = ""
    columns: list[ColumnStatistics] = Field(default_factory=list)
    seconds: float = 0.0
    created_by: str | None = None
    created_at: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.status != "failed"

    @property
    def resource(self) -> str | None:
        return f"sy:validation/{self.id}" if self.id is not None else None

    def failures(self, severity: Severity | None = None) -> list[CheckResult]:
        return [
            c for c in self.checks if not c.passed and (severity is None or c.severity == severity)
        ]

    def summary(self) -> ValidationSummary:
        return ValidationSummary(
            id=self.id,
            dataset=self.dataset,
            contract=self.contract,
            status=self.status,
            rows=self.rows,
            failed_checks=[c.label for c in self.failures()],
            drifted_columns=[d.column for d in self.drift if d.drifted],
            created_by=self.created_by,
            created_at=self.created_at,
        )


class ValidationSummary(WireModel):
    """A stored report in brief."""

    id: int | None = None
    dataset: str | None = None
    contract: str
    status: Status
    rows: int
    failed_checks: list[str]
    drifted_columns: list[str]
    created_by: str | None = None
    created_at: datetime | None = None
