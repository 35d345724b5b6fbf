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
