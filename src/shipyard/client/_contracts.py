"""Data contracts in the SDK: suggest, apply, validate, and ingest through a contract."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

import yaml

from shipyard.client._transport import Transport
from shipyard.errors import InvalidInput
from shipyard.names import check_name, parse_reference
from shipyard.schemas.contract_document import contract_document
from shipyard.schemas.contract_report import ValidationReport, ValidationSummary
from shipyard.schemas.contract_spec import Contract
from shipyard.schemas.contracts import (
    ContractInfo,
    ContractSuggestion,
    ContractSummary,
    GatedIngest,
)


def read_contract(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A contract document from a YAML file, or an error naming the file and line."""
    source = Path(path)
    if not source.is_file():
        raise InvalidInput(f"{source} does not exist or is not a file", field="file")
    try:
        loaded = yaml.safe_load(source.read_bytes())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidInput(f"{Path(path).name} is not valid YAML{line}", field="contract") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{Path(path).name} must hold a mapping", field="contract")
    return loaded


def gated_ingest(
    transport: Transport,
    path: str | os.PathLike[str],
    name: str,
    contract: str,
    *,
    on_fail: str = "reject",
    format: str | None = None,
) -> GatedIngest:
    """Ingest a file as a version of ``name`` only as far as ``contract`` allows."""
    check_name(name)
    source = Path(path)
    if not source.is_file():
        raise InvalidInput(f"{source} does not exist or is not a file", field="file")
    return GatedIngest.model_validate(
        transport.call(
            "contracts.ingest",
            name=name,
            content=source.absolute(),
            contract=contract,
            on_fail=on_fail,
            filename=source.name,
            format=format,
        )
    )


class Contracts:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def suggest(self, dataset: str, *, name: str | None = None) -> ContractSuggestion:
        """A contract derived from ``name@version`` (or the latest version) of a dataset."""
        ref = _version_ref(dataset)
        return ContractSuggestion.model_validate(
            self._t.call("contracts.suggest", dataset=ref.name, version=ref.version, name=name)
        )

    def apply(self, contract: Contract | dict[str, Any] | str | os.PathLike[str]) -> ContractInfo:
        """Store a contract (a model, a mapping, or a YAML file) as its next version."""
        if isinstance(contract, Contract):
            document = contract_document(contract)
        elif isinstance(contract, dict):
            document = contract
        else:
            document = read_contract(contract)
        return ContractInfo.model_validate(self._t.call("contracts.apply", document=document))

    def list(self) -> builtins.list[ContractSummary]:
        return [ContractSummary.model_validate(c) for c in self._t.call("contracts.list")]

    def get(self, ref: str) -> ContractInfo:
        """``name@3`` or ``name`` (the latest version)."""
        parsed = _version_ref(ref, field="contract")
        return ContractInfo.model_validate(
            self._t.call("contracts.get", name=parsed.name, version=parsed.version)
        )

    def validate(self, dataset: str, contract: str) -> ValidationReport:
        """Validate ``dataset[@version]`` against ``contract[@version]``; the report is stored."""
        ref = _version_ref(dataset)
        return ValidationReport.model_validate(
            self._t.call(
                "contracts.validate", dataset=ref.name, version=ref.version, contract=contract
            )
        )

    def validations(self, dataset: str, *, limit: int = 50) -> builtins.list[ValidationSummary]:
        """Stored reports of ``dataset`` (every version) or ``dataset@version``, newest first."""
        ref = _version_ref(dataset)
        return [
            ValidationSummary.model_validate(s)
            for s in self._t.call(
                "contracts.list_validations", dataset=ref.name, version=ref.version, limit=limit
            )
        ]

    def report(self, report_id: int) -> ValidationReport:
        return ValidationReport.model_validate(
            self._t.call("contracts.get_validation", report_id=report_id)
        )

    def ingest(
        self,
        path: str | os.PathLike[str],
        name: str,
        contract: str,
        *,
        on_fail: str = "reject",
        format: str | None = None,
    ) -> GatedIngest:
        """Ingest a file through a contract: on failure reject, quarantine rows, or warn."""
        return gated_ingest(self._t, path, name, contract, on_fail=on_fail, format=format)


def _version_ref(text: str, *, field: str = "dataset") -> Any:
    parsed = parse_reference(text, field=field)
    if parsed.alias is not None:
        raise InvalidInput(f"name a version (name@3), not an alias: {text!r}", field=field)
    return parsed
