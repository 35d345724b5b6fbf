"""Ingest through a contract: reject the file, quarantine its failing rows, or store and warn.

The file is read in record batches twice and never whole: the first pass validates it
(checks vectorized per batch, merged at the end), the second writes it, splitting each batch
into clean and failing rows when quarantining, to local Parquet files. Everything is then
recorded in one metadata transaction: the version(s) and their reports, or nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from shipyard.contracts._engine import Validation
from shipyard.contracts._store import (
    contract_access,
    find_contract_version,
    parse_contract_ref,
    save_report,
)
from shipyard.contracts._type_failures import explain_type_failures, type_failure_details
from shipyard.data import NumericTextScan, normalize_table, resolve_format
from shipyard.datasets import (
    DatasetVersionInfo,
    StagedVersion,
    VersionStager,
    find_version,
    read_file_batches,
    register_staged,
    scratch_directory,
)
from shipyard.datasets._staging import conform_batch, with_type_warnings
from shipyard.errors import InvalidInput
from shipyard.names import check_name, resource
from shipyard.schemas.contract_document import parse_contract
from shipyard.schemas.contract_report import ValidationReport
from shipyard.schemas.contract_spec import Contract
from shipyard.schemas.contracts import GatedIngest
from shipyard.schemas.gate import OnFail
from shipyard.security import Access, RequestContext, operation

REASONS = "_reasons"
QUARANTINE_SUFFIX = "-quarantine"

T = TypeVar("T")


@dataclass
class _Checked:
    """What the validating pass learned: the run (for per-row reasons) and the read types."""

    run: Validation
    report: ValidationReport
    schema: pa.Schema
    raw_types: dict[str, pa.DataType]


@dataclass
class _Gate:
    """One gated ingest: where the file is, what it is checked against, who stores it."""

    ctx: RequestContext
    content: Path | bytes
    fmt: str
    source: str
    contract: Contract
    contract_ref: str
    contract_version_id: int
    type_scan: NumericTextScan | None = None

    def batches(
        self,
        consume: Callable[[Iterator[pa.Table]], T],
        checked: _Checked | None,
        raw_types: dict[str, pa.DataType] | None = None,
    ) -> T:
        """Call ``consume`` with the file's normalized tables, one batch at a time.

        After a validating pass (``checked``), CSV is read with the column types that pass
        settled on, so both passes see the same values; ``raw_types`` receives them.
        """
        types = checked.raw_types if checked is not None and self.fmt == "csv" else None
        schema = checked.schema if checked is not None else None

        def tables(batches: Iterator[pa.RecordBatch]) -> T:
            if raw_types is not None:
                raw_types.clear()
            return consume(_normalized(batches, schema, raw_types))

        return read_file_batches(self.content, self.fmt, tables, column_types=types)


def _gate_uses(session: Session, name: str, contract: str, on_fail: OnFail) -> list[Access]:
    """The contract it validates against, and the quarantine dataset it may write."""
    found = [contract_access(session, contract)]
    if on_fail == "quarantine":
        quarantine = check_name(name + QUARANTINE_SUFFIX, field="name")
        found.append(Access("datasets:Ingest", resource("dataset", quarantine)))
    return found


@operation(
    "datasets:Ingest", lambda name: resource("dataset", name), uses=_gate_uses, mutating=True
)
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
    ``warn`` stores every row. The report is stored with each version written, in the same
    transaction as the versions.
    """
    check_name(name)
    contract_name, contract_version = parse_contract_ref(contract)
    with ctx.platform.db.session() as session:
        stored = find_contract_version(session, contract_name, contract_version)
    _check_not_empty(content)
    source = filename or (content.name if isinstance(content, Path) else "")
    gate = _Gate(
        ctx=ctx,
        content=content,
        fmt=resolve_format(content, format=format, filename=source or None),
        source=source,
        contract=parse_contract(stored.document),
        contract_ref=f"{contract_name}@{stored.version}",
        contract_version_id=stored.id,
    )
    raw_types: dict[str, pa.DataType] = {}
    checked = gate.batches(lambda tables: _validate(gate, tables), None, raw_types)
    checked.raw_types = raw_types
    report = checked.report
    if report.passed or on_fail == "warn":
        info, saved = _store(gate, name, checked)
        outcome = "passed" if report.passed else "stored_with_failures"
        return GatedIngest(outcome=outcome, dataset=info, report=saved)
    if on_fail == "reject":
        raise InvalidInput(_rejection(report, gate.contract_ref), field="contract")
    return _quarantine(gate, name, checked)


def _check_not_empty(content: bytes | Path) -> None:
    if isinstance(content, bytes):
        size = len(content)
    else:
        try:
            size = content.stat().st_size
        except OSError as error:
            raise InvalidInput(
                f"cannot read {content.name!r}: {error.strerror}", field="file"
            ) from None
    if size == 0:
        raise InvalidInput("file is empty", field="file")


def _normalized(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema | None,
    raw_types: dict[str, pa.DataType] | None,
) -> Iterator[pa.Table]:
    """Normalized tables, all with the first one's (or ``schema``'s) columns and types."""
    for number, batch in enumerate(batches, start=1):
        if raw_types is not None and number == 1:
            raw_types.update((f.name, f.type) for f in batch.schema)
        table = normalize_table(pa.Table.from_batches([batch]))
        if schema is None:
            if table.num_columns == 0:
                raise InvalidInput("dataset has no columns", field="file")
            schema = table.schema
        elif table.schema != schema:
            table = conform_batch(table, schema, number, field="file")
        yield table


def _validate(gate: _Gate, tables: Iterator[pa.Table]) -> _Checked:
    """The validating pass: one Validation run over every batch of the file."""
    first = next(tables, None)
    if first is None:
        raise InvalidInput("dataset has no rows", field="file")
    run = Validation(gate.contract, first.schema, contract_ref=gate.contract_ref)
    scan = gate.type_scan = NumericTextScan() if gate.fmt == "csv" else None

    def parts() -> Iterator[pa.Table]:
        yield first
        yield from tables

    report = run.run(parts() if scan is None else scan.passing(parts()))
    if run.rows == 0:
        raise InvalidInput("dataset has no rows", field="file")
    if scan is not None:
        explain_type_failures(report, scan.warnings())
    return _Checked(run, report, first.schema, {})


def _store(
    gate: _Gate, name: str, checked: _Checked
) -> tuple[DatasetVersionInfo, ValidationReport]:
    """Every row as one version of ``name``, recorded with the report."""
    with _scratch(gate) as tmp:

        def write(tables: Iterator[pa.Table]) -> StagedVersion:
            stager = VersionStager(Path(tempfile.mkdtemp(dir=tmp)))
            try:
                for table in tables:
                    stager.write(table)
                return stager.finish(checked.schema, allow_empty=False)
            except BaseException:
                stager.abort()
                raise

        staged = gate.batches(write, checked)
        with gate.ctx.platform.db.session() as session:
            return _record(gate, session, name, staged, checked.report)


def _quarantine(gate: _Gate, name: str, checked: _Checked) -> GatedIngest:
    report = checked.report
    whole = [c.label for c in report.failures("error") if c.failing_rows is None]
    whole += [f"{d.column}.drift" for d in report.drift if d.drifted and d.severity == "error"]
    if whole:
        raise InvalidInput(
            f"cannot quarantine rows: {', '.join(whole)} fail for the file as a whole; "
            "nothing was stored",
            field="contract",
        )
    if REASONS in checked.schema.names:
        raise InvalidInput(f"the file already has a column {REASONS!r}", field="file")
    quarantine_name = check_name(name + QUARANTINE_SUFFIX, field="name")
    with _scratch(gate) as tmp:
        good, bad, good_report = gate.batches(
            lambda tables: _split(gate, checked, tables, Path(tmp)), checked
        )
        with gate.ctx.platform.db.session() as session:
            quarantined, saved = _record(gate, session, quarantine_name, bad, report)
            if good.rows == 0:
                return GatedIngest(outcome="quarantined", quarantine=quarantined, report=saved)
            kept, _ = _record(gate, session, name, good, good_report)
    return GatedIngest(outcome="quarantined", dataset=kept, quarantine=quarantined, report=saved)


def _split(
    gate: _Gate, checked: _Checked, tables: Iterator[pa.Table], directory: Path
) -> tuple[StagedVersion, StagedVersion, ValidationReport]:
    """The writing pass of a quarantine: each batch's failing rows one way, the rest the other.

    The clean rows are validated as they go by, for the clean version's own report.
    """
    good = VersionStager(Path(tempfile.mkdtemp(dir=directory)))
    bad = VersionStager(Path(tempfile.mkdtemp(dir=directory)))

    def clean_parts() -> Iterator[pa.Table]:
        for table in tables:
            reasons = checked.run.row_failures(table, checked.report)
            failing = pc.is_valid(reasons)
            bad.write(table.filter(failing).append_column(REASONS, reasons.filter(failing)))
            clean = table.filter(pc.invert(failing))
            good.write(clean)
            yield clean

    try:
        clean_run = Validation(gate.contract, checked.schema, contract_ref=gate.contract_ref)
        good_report = clean_run.run(clean_parts())
        quarantined_schema = checked.schema.append(pa.field(REASONS, pa.string()))
        return (
            good.finish(checked.schema),
            bad.finish(quarantined_schema),
            good_report,
        )
    except BaseException:
        good.abort()
        bad.abort()
        raise


def _record(
    gate: _Gate, session: Session, name: str, staged: StagedVersion, report: ValidationReport
) -> tuple[DatasetVersionInfo, ValidationReport]:
    """Register a staged version and its report in the caller's transaction."""
    principal = gate.ctx.principal
    with_type_warnings(staged.profile, gate.type_scan)
    info = register_staged(session, gate.ctx.platform, principal, name, staged, gate.source)
    described = report.model_copy(update={"dataset": info.ref})
    row = find_version(session, name, info.version)
    saved = save_report(session, described, row.id, gate.contract_version_id, principal)
    return info, saved


def _scratch(gate: _Gate) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(dir=scratch_directory(gate.ctx.platform), prefix="gate-")


def _rejection(report: ValidationReport, contract_ref: str) -> str:
    explained = type_failure_details(report)
    failed = [
        f"{c.label} ({c.failing_rows} rows)"
        if c.failing_rows is not None
        else f"{c.label} ({explained[c.label]})"
        if c.label in explained
        else c.label
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
