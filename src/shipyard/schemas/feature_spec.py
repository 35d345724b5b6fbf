"""The feature view spec: entity keys, event time, features, source dataset and TTL, from YAML."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from shipyard.errors import InvalidInput
from shipyard.names import check_name, parse_reference
from shipyard.schemas._base import WireModel

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


MAX_TTL_SECONDS = 100 * 366 * 86_400


def parse_ttl(value: object) -> int:
    """Seconds from ``3600``, ``"90s"``, ``"15m"``, ``"2h"``, ``"7d"``, ``"1w"``; 0 is no limit."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or a duration like '2h'")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(
                "must be a number of seconds or a duration like '90s', '15m', '2h', '7d'"
            )
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 <= seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"must be from 0 to {MAX_TTL_SECONDS} seconds (100 years)")
    return seconds


class FeatureViewSpec(WireModel):
    """A named set of features of one source dataset, keyed by entity columns and event time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: str = Field(min_length=1)
    entities: list[str] = Field(min_length=1)
    event_time: str = Field(min_length=1)
    features: list[str] = Field(min_length=1)
    ttl: int = 0
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return check_name(value)
        except InvalidInput as error:
            raise ValueError(error.message) from None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        try:
            ref = parse_reference(value, field="source")
        except InvalidInput as error:
            raise ValueError(error.message) from None
        if ref.alias is not None:
            raise ValueError("must be a dataset name or name@version (datasets have no aliases)")
        return value

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, value: object) -> int:
        return parse_ttl(value)

    @field_validator("entities", "features")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        if any(not name.strip() for name in value):
            raise ValueError("column names must not be empty")
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"lists {repeated} more than once")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> FeatureViewSpec:
        keys = set(self.entities)
        if self.event_time in keys:
            raise ValueError(f"event_time {self.event_time!r} is also an entity column")
        overlap = sorted((keys | {self.event_time}) & set(self.features))
        if overlap:
            raise ValueError(f"features {overlap} are entity or event-time columns")
        return self

    @property
    def source_ref(self) -> tuple[str, int | None]:
        ref = parse_reference(self.source, field="source")
        return ref.name, ref.version


def parse_view(data: Any, *, field: str = "view") -> FeatureViewSpec:
    """Validate one mapping as a FeatureViewSpec; the error names the offending key."""
    if not isinstance(data, Mapping):
        raise InvalidInput("a feature view must be a mapping of keys to values", field=field)
    try:
        return FeatureViewSpec.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        location = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key; known keys are {list(FeatureViewSpec.model_fields)}"
        elif error["type"] == "missing":
            message = "is required"
        raise InvalidInput(message, field=f"{field}.{location}" if location else field) from None


def parse_views(data: Any) -> list[FeatureViewSpec]:
    """Views from ``{views: [...]}``, a list of views, or one view mapping; names unique."""
    if isinstance(data, Mapping) and "views" in data:
        if set(data) != {"views"}:
            raise InvalidInput("a views file holds only the key 'views'", field="views")
        data = data["views"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InvalidInput("no feature views given", field="views")
    views = [parse_view(item, field=f"views[{i}]") for i, item in enumerate(items)]
    names = [v.name for v in views]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidInput(f"views {repeated} are defined more than once", field="views")
    return views


def load_views(path: str | Path) -> list[FeatureViewSpec]:
    """Read a YAML file of feature views and parse it with ``parse_views``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {str(path)!r}: {exc}", field="file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise InvalidInput(f"invalid YAML{line}: {problem}", field="file") from None
    return parse_views(data)
