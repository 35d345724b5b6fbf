"""What the model registry returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from shipyard.schemas._base import WireModel
from shipyard.schemas.evaluation import GateCheckInfo

Approval = Literal["PendingManualApproval", "Approved", "Rejected"]


class ModelVersionInfo(WireModel):
    """One registered, immutable model artifact with its signature and provenance."""

    name: str
    version: int
    flavor: str
    digest: str
    size_bytes: int
    signature: dict[str, Any]
    metrics: dict[str, Any]
    approval: Approval
    aliases: list[str]
    run_id: str
    created_by: str
    created_at: datetime
    code_digest: str | None = None
    """For code and PyTorch models: the digest of the registered code loading checks."""
    code_registered_by: str | None = None
    """Who registered that code (a principal allowed ``registry:RegisterCode``)."""
    gate_checks: list[GateCheckInfo] = []
    """The newest gate decision per stage (register, approve, deploy), with its reason."""
    parents: list[str] = []
    """The versions (``name@version``) its run continued training from (``init_model``)."""
    approval_reason: str | None = None
    """The reason given with the latest approval decision, if any."""
    approval_by: str | None = None
    """Who made the latest approval decision (None: never decided since registration)."""
    approval_at: datetime | None = None
    """When the latest approval decision was made."""

    @property
    def resource(self) -> str:
        return f"sy:model/{self.name}/{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class ApprovalDecision(WireModel):
    """One approval decision on a version: the status set, why, by whom and when."""

    status: Approval
    reason: str | None
    principal: str
    decided_at: datetime


class ModelInfo(WireModel):
    name: str
    created_at: datetime
    latest_version: int | None
    aliases: dict[str, int]
    versions: list[ModelVersionInfo] = []
    four_eyes: bool = False
    """Approving a version needs a principal other than whoever registered it or trained
    its run."""


class LineageNode(WireModel):
    id: str
    kind: Literal["dataset", "run", "model"]
    label: str
    deleted: str | None = None
    """On a tombstone: ``deleted on <time> by <principal>: <reason>`` (its data is purged;
    a purged run: ``purged on ...``)."""


class LineageGraph(WireModel):
    """Nodes and ``(from, to)`` edges: dataset version -> run -> model version."""

    root: str
    nodes: list[LineageNode]
    edges: list[tuple[str, str]]
