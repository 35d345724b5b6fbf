"""Contract versions and validation reports in the metadata database."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import InvalidInput
from shipyard.names import parse_reference
from shipyard.schemas.contract_document import parse_contract
from shipyard.schemas.contract_report import ValidationReport
from shipyard.schemas.contracts import ContractInfo
from shipyard.security import Access, ResourceName, latest_versioned
from shipyard.store.metadata import CONTRACTS, find_versioned
from shipyard.store.metadata import contract_tables as ct
from shipyard.store.metadata import tables as t


def contract_info(name: str, row: ct.DataContractVersion, *, created: bool = False) -> ContractInfo:
    return ContractInfo(
        name=name,
        version=row.version,
        digest=row.digest,
        dataset=row.dataset,
        contract=parse_contract(row.document),
        created_by=row.created_by,
        created_at=row.created_at,
        created=created,
    )


def find_contract_version(
    session: Session, name: str, version: int | None, *, field: str = "contract"
) -> ct.DataContractVersion:
    """The named version, or the latest one; NotFound otherwise."""
    return find_versioned(session, CONTRACTS, name, version, field=field, version_field=field)[1]


def parse_contract_ref(ref: str, *, field: str = "contract") -> tuple[str, int | None]:
    parsed = parse_reference(ref, field=field)
    if parsed.alias is not None:
        raise InvalidInput(f"contracts are named by version (name@3), not {ref!r}", field=field)
    return parsed.name, parsed.version


def save_report(
    session: Session,
    report: ValidationReport,
    dataset_version_id: int,
    contract_version_id: int,
    principal: str,
) -> ValidationReport:
    """Store a report with its dataset version; the stored copy has its id and time."""
    row = ct.DataValidation(
        dataset_version_id=dataset_version_id,
        contract_version_id=contract_version_id,
        status=report.status,
        report=report.model_dump(mode="json", exclude={"id", "created_at", "created_by"}),
        created_by=principal,
    )
    session.add(row)
    session.flush()
    return stored_report(row)


def stored_report(row: ct.DataValidation) -> ValidationReport:
    created = row.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.UTC)
    return ValidationReport.model_validate(
        row.report | {"id": row.id, "created_by": row.created_by, "created_at": created}
    )


def latest_validation(session: Session, dataset_version_id: int) -> ValidationReport | None:
    """The most recent report of a dataset version, if it was ever validated."""
    row = session.scalar(
        sa.select(ct.DataValidation)
        .where(ct.DataValidation.dataset_version_id == dataset_version_id)
        .order_by(ct.DataValidation.id.desc())
        .limit(1)
    )
    return stored_report(row) if row is not None else None


def dataset_ref(session: Session, dataset_version_id: int) -> tuple[str, int]:
    name, version = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.id == dataset_version_id)
    ).one()
    return str(name), int(version)


def refuse_failed_validation(session: Session, dataset_version_id: int, ref: str) -> None:
    """InvalidInput when a dataset version's latest validation failed (an error check)."""
    report = latest_validation(session, dataset_version_id)
    if report is None or report.status != "failed":
        return
    failed = [c.label for c in report.failures("error")]
    failed += [f"{d.column}.drift" for d in report.drift if d.drifted and d.severity == "error"]
    raise InvalidInput(
        f"dataset {ref} failed its latest validation (report {report.id}, contract "
        f"{report.contract}: {', '.join(failed)}); fix the data, or train anyway with "
        "force: true in the spec (shipyard train --force)",
        field="dataset",
    )


def contract_resource(session: Session, name: str, version: int | None) -> ResourceName:
    """``sy:contract/<name>/<version>`` (also ``sy:contract/<name>``), the latest if None."""
    return latest_versioned(session, "contract", CONTRACTS, name, version)


def contract_access(session: Session, ref: str, *, field: str = "contract") -> Access:
    """Reading the contract version ``ref`` (``name`` or ``name@3``) names."""
    name, version = parse_contract_ref(ref, field=field)
    return Access("contracts:GetContract", contract_resource(session, name, version))


def validation_resource(session: Session, report_id: int) -> ResourceName:
    """``sy:validation/<dataset>/<id>`` (also ``sy:validation/<id>``): scoped by dataset."""
    dataset = session.scalar(
        sa.select(t.Dataset.name)
        .join(t.DatasetVersion, t.DatasetVersion.dataset_id == t.Dataset.id)
        .join(ct.DataValidation, ct.DataValidation.dataset_version_id == t.DatasetVersion.id)
        .where(ct.DataValidation.id == report_id)
    )
    return ResourceName.scoped("validation", dataset, str(report_id))


def validation_data_access(session: Session, report_id: int) -> list[Access]:
    """A report holds sample rows: reading it reads the dataset version it validated."""
    row = session.get(ct.DataValidation, report_id)
    if row is None:
        return []
    name, version = dataset_ref(session, row.dataset_version_id)
    return [Access("datasets:ReadData", ResourceName.versioned("dataset", name, version))]
