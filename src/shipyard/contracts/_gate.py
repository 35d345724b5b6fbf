"""Ingest through a contract: reject the file, quarantine its failing rows, or store and warn."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._document import parse_contract
from shipyard.contracts._engine import Validation, table_parts, validate_table
from shipyard.contracts._models import GatedIngest, OnFail
from shipyard.contracts._report import ValidationReport
from shipyard.contracts._store import find_contract_version, parse_contract_ref, save_report
from shipyard.data import read_table
from shipyard.datasets import DatasetVersionInfo, find_version, write_version_from_batches
from shipyard.errors import InvalidInput
from shipyard.names import check_name, resource
from shipyard.security import RequestContext, operation

REASONS = "_reasons"
QUARANTINE_SUFFIX = "-quarantine"


@operation("datasets:Ingest", lambda name: resource("dataset", name), mutating=True)
def ingest(
    ctx: RequestContext,
    name: str,
    content: bytes | Path,
    contract: str,
    on_fail: OnFail = "reject",
    filename: str | None = None,
    format: str | None = None,
) -> GatedIngest:
    """Validate a file against a contract before storing it as a version of ``name``.

    When an error check fails: ``reject`` stores nothing; ``quarantine`` stores the failing
    rows with a ``_reasons`` column as ``<name>-quarantine`` and the rest as ``name``;
    ``warn`` stores every row. The report is stored with each version written.
    """
    check_name(name)
    contract_name, contract_version = parse_contract_ref(contract)
    with ctx.platform.db.session() as session:
        stored = find_contract_version(session, contract_name, contract_version)
    ctx.authorize("contracts:GetContract", resource("contract", contract_name, stored.version))
    rules = parse_contract(stored.document)
    contract_ref = f"{contract_name}@{stored.version}"
    if isinstance(content, bytes) and not content:
        raise InvalidInput("file is empty", field="file")
    source = filename or (content.name if isinstance(content, Path) else "")
    table = read_table(content, format=format, filename=source or None)
    run = Validation(rules, table.schema, contract_ref=contract_ref)
    report = run.run(table_parts(table))
    if report.passed or on_fail == "warn":
        info, saved = _store(ctx, name, table, source, report, stored.id)
        outcome = "passed" if report.passed else "stored_with_failures"
        return GatedIngest(outcome=outcome, dataset=info, report=saved)
    if on_fail == "reject":
        raise InvalidInput(_rejection(report, contract_ref), field="contract")
    return _quarantine(ctx, name, table, source, run, report, stored.id)


def _quarantine(
    ctx: RequestContext,
    name: str,
    table: pa.Table,
    source: str,
    run: Validation,
    report: ValidationReport,
    contract_version_id: int,
) -> GatedIngest:
    whole = [c.label for c in report.failures("error") if c.failing_rows is None]
    whole += [f"{d.column}.drift" for d in report.drift if d.drifted and d.severity == "error"]
    if whole:
        raise InvalidInput(
            f"cannot quarantine rows: {', '.join(whole)} fail for the file as a whole; "
            "nothing was stored",
            field="contract",
        )
    if REASONS in table.column_names:
        raise InvalidInput(f"the file already has a column {REASONS!r}", field="file")
    quarantine_name = check_name(name + QUARANTINE_SUFFIX, field="name")
    ctx.authorize("datasets:Ingest", resource("dataset", quarantine_name))
    reasons = run.row_failures(table, report)
    failing = pc.is_valid(reasons)
    bad = table.filter(failing).append_column(REASONS, reasons.filter(failing))
    good = table.filter(pc.invert(failing))
    quarantined, saved = _store(ctx, quarantine_name, bad, source, report, contract_version_id)
    if good.num_rows == 0:
        return GatedIngest(outcome="quarantined", quarantine=quarantined, report=saved)
    good_report = validate_table(run.contract, good, contract_ref=report.contract)
    stored, _ = _store(ctx, name, good, source, good_report, contract_version_id)
    return GatedIngest(outcome="quarantined", dataset=stored, quarantine=quarantined, report=saved)


def _store(
    ctx: RequestContext,
    name: str,
    table: pa.Table,
    source: str,
    report: ValidationReport,
    contract_version_id: int,
) -> tuple[DatasetVersionInfo, ValidationReport]:
    info = write_version_from_batches(ctx, name, [table], source=source)
    described = report.model_copy(update={"dataset": info.ref})
    with ctx.platform.db.session() as session:
        row = find_version(session, name, info.version)
        saved = save_report(session, described, row.id, contract_version_id, ctx.principal)
    return info, saved


def _rejection(report: ValidationReport, contract_ref: str) -> str:
    failed = [
        f"{c.label} ({c.failing_rows} rows)" if c.failing_rows is not None else c.label
        for c in report.failures("error")
    ]
    failed += [
        f"{d.column} drifted ({'; '.join(d.reasons)})"
        for d in report.drift
        if d.drifted and d.severity == "error"
    ]
    return (
        f"rejected by contract {contract_ref}: {len(failed)} error "
        f"{'check' if len(failed) == 1 else 'checks'} failed: {', '.join(failed)}; "
        "nothing was stored"
    )
