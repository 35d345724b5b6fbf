"""What the feature service returns and stores: views, materializations, online reads, bindings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from shipyard.names import check_name
from shipyard.schemas._base import WireModel


class FeatureViewInfo(WireModel):
    """One version of a feature view, with the column types its source had when applied."""

    name: str
    version: int
    digest: str
    source: str
    source_version: int
    entities: list[str]
    event_time: str
    features: list[str]
    ttl: int
    description: str
    columns: dict[str, str]
    created_by: str
    created_at: datetime
    created: bool = False

    @property
    def resource(self) -> str:
        return f"sy:feature-view/{self.name}/{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class MaterializationInfo(WireModel):
    """One load of a view's latest values into the online store, over ``[start, end)``."""

    view: str
    version: int
    start: datetime | None
    end: datetime
    source: str
    rows: int
    online_store: str
    created_by: str
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:feature-view/{self.view}/{self.version}"


class OnlineFeatures(WireModel):
    """Online feature values, one row per requested entity, in request order."""

    columns: list[str]
    rows: list[dict[str, Any]]


class FeatureSource(WireModel):
    """Features of one view that feed an endpoint: view feature -> model input name.

    ``entities`` maps the view's entity columns to request fields (default: same name);
    ``keys`` and ``key_types`` are filled in from the view when the binding is stored.
    """

    model_config = ConfigDict(extra="forbid")

    view: str
    features: dict[str, str] = Field(min_length=1)
    entities: dict[str, str] = Field(default_factory=dict)
    keys: list[str] = Field(default_factory=list)
    key_types: dict[str, Literal["integer", "string"]] = Field(default_factory=dict)

    @field_validator("view")
    @classmethod
    def _view(cls, value: str) -> str:
        return check_name(value, field="view")

    @field_validator("features", mode="before")
    @classmethod
    def _same_names(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(name, str) for name in value):
            return {name: name for name in value}
        return value


class EndpointFeatures(WireModel):
    """Which online features an endpoint adds to each request before predicting."""

    endpoint: str
    sources: list[FeatureSource]
    keep_entity_keys: bool = False
    created_by: str = ""
    updated_at: datetime | None = None

    @property
    def resource(self) -> str:
        return f"sy:endpoint/{self.endpoint}"

    @property
    def inputs(self) -> list[str]:
        """The model inputs the online store fills."""
        return [name for source in self.sources for name in source.features.values()]
