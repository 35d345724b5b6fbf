"""The contract service: suggest, apply and read contracts; validate dataset versions."""

from __future__ import annotations

from itertools import chain
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.contracts._engine import PART_ROWS, Validation, validate_table
from shipyard.contracts._plan import check_columns_exist, unplannable
from shipyard.contracts._store import (
    contract_access,
    contract_info,
    contract_resource,
    find_contract_version,
    parse_contract_ref,
    save_report,
    stored_report,
    validation_data_access,
    validation_resource,
)
from shipyard.contracts._suggest import suggest_contract
from shipyard.contracts._type_failures import explain_type_failures
from shipyard.data import ColumnTypeWarning
from shipyard.datasets import (
    dataset_resource,
    find_version,
    iter_version_batches,
    load_version_table,
)
from shipyard.errors import InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.contract_document import contract_digest, contract_document, parse_contract
from shipyard.schemas.contract_report import ValidationReport, ValidationSummary
from shipyard.schemas.contract_spec import Contract
from shipyard.schemas.contracts import ContractInfo, ContractSuggestion, ContractSummary
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import CONTRACTS, add_version
from shipyard.store.metadata import contract_tables as ct
from shipyard.store.metadata import tables as t


def _dataset_version(session: Session, dataset: str, version: int | None) -> ResourceName:
    return dataset_resource(session, dataset, version)


def _reads_dataset(session: Session, dataset: str, version: int | None) -> list[Access]:
    return [Access("datasets:ReadData", dataset_resource(session, dataset, version))]


def _contract_dataset(session: Session, document: Any) -> list[Access]:
    """Applying a contract that names a dataset reads that dataset's latest schema."""
    dataset = document.get("dataset") if isinstance(document, dict) else None
    if not isinstance(dataset, str):
        return []
    check_name(dataset, field="dataset")
    return [Access("datasets:GetDataset", dataset_resource(session, dataset, None))]


@operation("contracts:SuggestContract", _dataset_version, uses=_reads_dataset, mutating=False)
def suggest(
    ctx: RequestContext, dataset: str, version: int | None = None, name: str | None = None
) -> ContractSuggestion:
    """Derive a contract (checks and drift reference) from a baseline dataset version."""
    check_name(dataset, field="dataset")
    contract_name = check_name(name or dataset, field="name")
    with ctx.platform.db.session() as session:
        row = find_version(session, dataset, version)
    table = load_version_table(ctx.platform, row)
    baseline = f"{dataset}@{row.version}"
    contract = suggest_contract(table, name=contract_name, dataset=dataset, baseline=baseline)
    return ContractSuggestion(baseline=baseline, contract=contract)


def _name_of(document: Any) -> str:
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else "*"


@operation(
    "contracts:ApplyContract",
    lambda document: resource("contract", _name_of(document)),
    uses=_contract_dataset,
    mutating=True,
)
def apply(ctx: RequestContext, document: dict[str, Any]) -> ContractInfo:
    """Store a contract as its next version; an unchanged contract keeps its version.

    When the contract names a dataset, its checks must fit that dataset's latest version.
    """
    contract = parse_contract(document)
    digest = contract_digest(contract)
    with ctx.platform.db.session() as session:
        if contract.dataset is not None:
            _check_fits_dataset(ctx, session, contract)
        row, created = add_version(
            session,
            CONTRACTS,
            contract.name,
            reuse_digest=digest,
            dataset=contract.dataset,
            document=contract_document(contract),
            created_by=ctx.principal,
        )
        return contract_info(contract.name, row, created=created)


def _check_fits_dataset(ctx: RequestContext, session: Session, contract: Contract) -> None:
    assert contract.dataset is not None
    try:
        row = find_version(session, contract.dataset, None)
    except NotFound as missing:
        raise InvalidInput(missing.message, field="dataset") from None
    types = {c["name"]: c["type"] for c in row.schema}
    check_columns_exist(contract, types)
    for problem in unplannable(contract, types):
        raise InvalidInput(
            f"{problem.message.removeprefix('not evaluated: ')} "
            f"(in {contract.dataset}@{row.version})",
            field=f"columns.{problem.column}.{problem.check}",
        )


@operation("contracts:ListContracts", lambda: resource("contract"), mutating=False)
def list_contracts(ctx: RequestContext) -> list[ContractSummary]:
    versions = (
        sa.select(
            ct.DataContractVersion.contract_id,
            sa.func.count().label("versions"),
            sa.func.max(ct.DataContractVersion.version).label("latest"),
        )
        .group_by(ct.DataContractVersion.contract_id)
        .subquery()
    )
    query = (
        sa.select(ct.DataContract, versions.c.versions, versions.c.latest, ct.DataContractVersion)
        .join(versions, versions.c.contract_id == ct.DataContract.id)
        .join(
            ct.DataContractVersion,
            sa.and_(
                ct.DataContractVersion.contract_id == ct.DataContract.id,
                ct.DataContractVersion.version == versions.c.latest,
            ),
        )
        .order_by(ct.DataContract.name)
    )
    with ctx.platform.db.session() as session:
        return [
            ContractSummary(
                name=contract.name,
                versions=count,
                latest_version=latest,
                dataset=row.dataset,
                created_at=contract.created_at,
            )
            for contract, count, latest, row in session.execute(query)
        ]


@operation(
    "contracts:GetContract",
    contract_resource,
    mutating=False,
)
def get(ctx: RequestContext, name: str, version: int | None = None) -> ContractInfo:
    """One version of a contract (the latest when no version is given)."""
    with ctx.platform.db.session() as session:
        return contract_info(name, find_contract_version(session, name, version, field="name"))


@operation(
    "contracts:ValidateDataset",
    _dataset_version,
    uses=lambda session, dataset, version, contract: [
        *_reads_dataset(session, dataset, version),
        contract_access(session, contract),
    ],
    mutating=True,
)
def validate(
    ctx: RequestContext, dataset: str, contract: str, version: int | None = None
) -> ValidationReport:
    """Validate a dataset version against a contract version and store the report with it."""
    contract_name, contract_version = parse_contract_ref(contract)
    with ctx.platform.db.session() as session:
        row = find_version(session, dataset, version)
        stored = find_contract_version(session, contract_name, contract_version)
    report = validate_version(
        ctx.platform,
        row,
        parse_contract(stored.document),
        contract_ref=f"{contract_name}@{stored.version}",
        dataset_ref=f"{dataset}@{row.version}",
    )
    stored_warnings = row.profile.get("warnings", [])
    explain_type_failures(report, [ColumnTypeWarning.model_validate(w) for w in stored_warnings])
    with ctx.platform.db.session() as session:
        return save_report(session, report, row.id, stored.id, ctx.principal)


def validate_version(
    platform: Platform,
    row: t.DatasetVersion,
    contract: Contract,
    *,
    contract_ref: str,
    dataset_ref: str,
) -> ValidationReport:
    """Validate a stored version: in memory when small, else streamed part by part.

    Sample rows show every column in memory, only the checked ones when streamed.
    """
    check_columns_exist(contract, {c["name"]: c["type"] for c in row.schema})
    columns = contract.referenced_columns()
    refs = {"contract_ref": contract_ref, "dataset_ref": dataset_ref}
    if row.size_bytes <= platform.settings.ingest_in_memory_max_bytes or not columns:
        return validate_table(contract, load_version_table(platform, row), **refs)
    batches = iter_version_batches(platform, row, columns, batch_size=PART_ROWS)
    first = next(batches)
    run = Validation(contract, first.schema, **refs)
    return run.run(pa.Table.from_batches([batch]) for batch in chain([first], batches))


@operation(
    "contracts:ListValidations",
    lambda dataset, version: resource("dataset", dataset, version),
    mutating=False,
)
def list_validations(
    ctx: RequestContext, dataset: str, version: int | None = None, limit: int = 50
) -> list[ValidationSummary]:
    """Stored reports of a dataset (or of one version), newest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("must be between 1 and 1000", field="limit")
    query = (
        sa.select(ct.DataValidation)
        .join(t.DatasetVersion, t.DatasetVersion.id == ct.DataValidation.dataset_version_id)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.Dataset.name == dataset)
        .order_by(ct.DataValidation.id.desc())
        .limit(limit)
    )
    with ctx.platform.db.session() as session:
        if version is not None:
            find_version(session, dataset, version)
            query = query.where(t.DatasetVersion.version == version)
        elif session.scalar(sa.select(t.Dataset.id).where(t.Dataset.name == dataset)) is None:
            raise NotFound(f"dataset {dataset!r} does not exist", field="dataset")
        return [stored_report(row).summary() for row in session.scalars(query)]


@operation(
    "contracts:GetValidation",
    validation_resource,
    uses=validation_data_access,
    mutating=False,
)
def get_validation(ctx: RequestContext, report_id: int) -> ValidationReport:
    """One stored report, with its sample rows (so it needs read access to the data)."""
    with ctx.platform.db.session() as session:
        row = session.get(ct.DataValidation, report_id)
        if row is None:
            raise NotFound(f"validation report {report_id} does not exist", field="report_id")
        return stored_report(row)
