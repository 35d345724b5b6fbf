"""What the contract service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shipyard.schemas._base import WireModel
from shipyard.schemas.contract_document import contract_yaml
from shipyard.schemas.contract_report import ValidationReport
from shipyard.schemas.contract_spec import Contract
from shipyard.schemas.datasets import DatasetVersionInfo


class ContractInfo(WireModel):
    """One applied version of a contract."""

    name: str
    version: int
    digest: str
    dataset: str | None
    contract: Contract
    created_by: str
    created_at: datetime
    created: bool = False

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def resource(self) -> str:
        return f"sy:contract/{self.name}/{self.version}"

    @property
    def yaml(self) -> str:
        return contract_yaml(self.contract)


class ContractSummary(WireModel):
    name: str
    versions: int
    latest_version: int
    dataset: str | None
    created_at: datetime


class ContractSuggestion(WireModel):
    """A contract derived from a baseline dataset version, not yet applied."""

    baseline: str
    contract: Contract

    @property
    def yaml(self) -> str:
        return contract_yaml(self.contract)


class GatedIngest(WireModel):
    """The outcome of ingesting a file through a contract.

    ``dataset`` holds the stored rows (all of them, or the passing ones when quarantining);
    ``quarantine`` the failing rows with a ``_reasons`` column; ``report`` the validation
    of the whole file.
    """

    outcome: Literal["passed", "stored_with_failures", "quarantined"]
    dataset: DatasetVersionInfo | None = None
    quarantine: DatasetVersionInfo | None = None
    report: ValidationReport

    @property
    def resource(self) -> str | None:
        return self.dataset.resource if self.dataset else None
