"""Why a column declared numeric is text: the non-numeric cells, named in its type check."""

from __future__ import annotations

from collections.abc import Iterable

from shipyard.data import ColumnTypeWarning
from shipyard.schemas.contract_report import ValidationReport

NUMERIC = ("integer", "float")


def explain_type_failures(
    report: ValidationReport, warnings: Iterable[ColumnTypeWarning]
) -> ValidationReport:
    """Name the non-numeric cells in each failed type check of a numeric column read as text.

    A contract that declares ``type: integer`` (or float) turns the ingest warning into an
    error: the check fails as before, and now says which values made the column text.
    """
    found = {w.column: w for w in warnings}
    for check in report.checks:
        warning = found.get(check.column or "")
        if (
            warning is None
            or check.check != "type"
            or check.passed
            or check.expected not in NUMERIC
            or check.observed != "string"
        ):
            continue
        check.message = warning.message
        check.sample = [{warning.column: value} for value in warning.examples]
    return report


def type_failure_details(report: ValidationReport) -> dict[str, str]:
    """The explanation of each explained type failure, by check label."""
    return {c.label: c.message for c in report.checks if c.check == "type" and c.message}
