"""What the dataset service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shipyard.schemas._base import WireModel

ColumnType = Literal["integer", "float", "string", "boolean", "timestamp", "date"]


class ColumnTypeWarning(WireModel):
    """A column stored as text because a few of its cells are not numbers."""

    column: str
    non_numeric: int
    numeric: int
    examples: list[str]
    message: str


class DatasetVersionInfo(WireModel):
    """One immutable, content-addressed version of a dataset."""

    name: str
    version: int
    digest: str
    rows: int
    size_bytes: int
    columns: list[dict[str, Any]]
    profile: dict[str, Any]
    source: str
    created_by: str
    created_at: datetime
    created: bool = False
    warnings: list[ColumnTypeWarning] = Field(default_factory=list)
    """What reading the file noticed (a numeric column kept as text); stored with the version."""
    deleted_at: datetime | None = None
    """Set on a tombstone: the version was deleted and its data purged."""
    deleted_by: str | None = None
    deleted_reason: str | None = None
    erasure_id: str | None = None
    """The erasure request that last rewrote this version without some rows, if any."""

    @property
    def resource(self) -> str:
        return f"sy:dataset/{self.name}/{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class DatasetInfo(WireModel):
    name: str
    versions: int
    latest_version: int | None
    latest_rows: int | None
    created_at: datetime


class TablePreview(WireModel):
    """The first rows of a dataset version, JSON-friendly."""

    name: str
    version: int
    columns: list[str]
    rows: list[dict[str, Any]]


class ErasedVersion(WireModel):
    """How many rows an erasure removed from one version (rewritten under the same number)."""

    version: int
    rows_removed: int
    rows: int
    digest: str


class ErasureInfo(WireModel):
    """An erasure request: rows removed by key from every version of a dataset.

    The erased values are not kept, only a salted hash over them (``values_hash``).
    """

    id: str
    dataset: str
    key: str
    value_count: int
    values_hash: str
    rows_removed: int
    versions: list[ErasedVersion]
    purged_blobs: int
    validations_removed: int = 0
    requested_by: str
    reason: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:dataset/{self.dataset}"


class DeletionInfo(WireModel):
    """What a delete did: the tombstones it left and the blobs it purged (or kept, in use)."""

    resource_name: str
    deleted: list[str]
    """References of the versions now tombstoned, e.g. ``bc@2``."""
    purged_blobs: int
    kept_blobs: list[str] = Field(default_factory=list)
    """Blobs left in place because something live still names them, described."""
    deleted_by: str
    deleted_at: datetime
    reason: str

    @property
    def resource(self) -> str:
        return self.resource_name
