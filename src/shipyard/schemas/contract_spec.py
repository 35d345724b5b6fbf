"""The data contract: per-column checks, a row-count check, drift thresholds and references.

A check's ``severity`` of None means the column's ``severity`` (``error`` by default).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shipyard.names import check_name
from shipyard.schemas._base import WireModel
from shipyard.schemas.datasets import ColumnType

Severity = Literal["warn", "error"]
Bound = int | float | str


class _Strict(WireModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(_Strict):
    """Fields every check has."""

    severity: Severity | None = None


class NotNull(Check):
    """No missing value (null, or NaN in a float column)."""


class Unique(Check):
    """No value occurs twice (missing values are not counted)."""


class Completeness(Check):
    """At least ``min`` of the rows hold a value."""

    min: float = Field(gt=0.0, le=1.0)


class _Between(Check):
    min: Bound | None = None
    max: Bound | None = None

    @field_validator("min", "max", mode="before")
    @classmethod
    def _dates_as_text(cls, value: object) -> object:
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    @model_validator(mode="after")
    def _ordered(self) -> _Between:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        numbers = isinstance(self.min, int | float) and isinstance(self.max, int | float)
        if numbers and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class Range(_Between):
    """Values lie within [min, max]: numbers, or ISO dates and timestamps."""


class Mean(_Between):
    """The mean of the values lies within [min, max]."""

    min: float | None = None
    max: float | None = None


class Length(_Between):
    """String lengths (in characters) lie within [min, max]."""

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


class AllowedValues(Check):
    """Every value is one of ``values``."""

    values: list[str | bool | int | float] = Field(min_length=1)


class Pattern(Check):
    """Every value matches ``regex`` (RE2 syntax, as written; anchor it with ^...$)."""

    regex: str = Field(min_length=1)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str) -> str:
        import pyarrow as pa  # only to check a pattern: Arrow compiles it (RE2)
        import pyarrow.compute as pc

        try:
            pc.match_substring_regex(pa.array([""]), regex)
        except pa.ArrowInvalid as error:
            raise ValueError(f"invalid regular expression: {error}") from None
        return regex


class RowCount(Check):
    """The number of rows lies within [min, max]."""

    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)


SHORTHANDS: dict[str, str | None] = {
    "not_null": None,
    "unique": None,
    "completeness": "min",
    "allowed_values": "values",
    "pattern": "regex",
}
"""Checks a bare value can stand for: ``not_null: true``, ``pattern: '^[A-Z]{2}$'``."""


class ColumnContract(_Strict):
    """The checks on one column."""

    type: ColumnType | None = None
    severity: Severity = "error"
    not_null: NotNull | None = None
    completeness: Completeness | None = None
    range: Range | None = None
    length: Length | None = None
    allowed_values: AllowedValues | None = None
    pattern: Pattern | None = None
    unique: Unique | None = None
    mean: Mean | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthands(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        expanded = dict(data)
        for key, field in SHORTHANDS.items():
            value = expanded.get(key)
            if value is None or isinstance(value, dict | BaseModel):
                continue
            if field is None:
                if value is True:
                    expanded[key] = {}
                elif value is False:
                    expanded[key] = None
            else:
                expanded[key] = {field: value}
        return expanded

    def severity_of(self, check: Check) -> Severity:
        return check.severity or self.severity

    def checks(self) -> dict[str, Check]:
        """The checks this column has, by name, in declaration order."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), Check)
        }


CHECKS: dict[str, type[Check]] = {
    "not_null": NotNull,
    "completeness": Completeness,
    "range": Range,
    "length": Length,
    "allowed_values": AllowedValues,
    "pattern": Pattern,
    "unique": Unique,
    "mean": Mean,
}


class DriftPolicy(_Strict):
    """When a column counts as drifted from its reference, and how much that matters.

    Above ``small_sample`` current values the distances decide (PSI, KS, Jensen-Shannon),
    at or below it the KS and chi-square p-values, which on large samples flag even
    negligible shifts.
    """

    severity: Severity = "warn"
    psi: float = Field(0.2, gt=0.0)
    ks: float = Field(0.1, gt=0.0, le=1.0)
    js: float = Field(0.1, gt=0.0, le=1.0)
    p_value: float = Field(0.05, gt=0.0, lt=1.0)
    small_sample: int = Field(1000, ge=0)


class NumericReference(_Strict):
    """Baseline histogram over quantile bins: bin i holds values in (edges[i-1], edges[i]]."""

    kind: Literal["numeric"] = "numeric"
    count: int = Field(ge=1)
    edges: list[float] = Field(min_length=1)
    counts: list[int]

    @model_validator(mode="after")
    def _consistent(self) -> NumericReference:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("edges must be strictly increasing")
        if len(self.counts) != len(self.edges) + 1:
            raise ValueError(f"needs {len(self.edges) + 1} counts for {len(self.edges)} edges")
        if any(c < 0 for c in self.counts) or sum(self.counts) != self.count:
            raise ValueError("counts must be 0 or more and add up to count")
        return self


class CategoricalReference(_Strict):
    """Baseline frequency of each category; ``other`` counts the rest."""

    kind: Literal["categorical"] = "categorical"
    count: int = Field(ge=1)
    values: dict[str, int] = Field(min_length=1)
    other: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> CategoricalReference:
        if any(c < 0 for c in self.values.values()):
            raise ValueError("counts must be 0 or more")
        if sum(self.values.values()) + self.other != self.count:
            raise ValueError("values and other must add up to count")
        return self


ColumnReference = Annotated[NumericReference | CategoricalReference, Field(discriminator="kind")]


class Reference(_Strict):
    """Per-column statistics of the baseline a contract was suggested from, for drift."""

    dataset: str | None = None
    rows: int = Field(ge=0)
    columns: dict[str, ColumnReference] = Field(default_factory=dict)


class Contract(_Strict):
    """Constraints on a dataset; versioned when applied."""

    name: str
    dataset: str | None = None
    description: str = ""
    rows: RowCount | None = None
    columns: dict[str, ColumnContract] = Field(default_factory=dict)
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    reference: Reference | None = None

    @field_validator("name", "dataset")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_name(value)
            except ValueError as error:
                raise ValueError(str(error).split(": ", 1)[-1]) from None
        return value

    def referenced_columns(self) -> list[str]:
        """Every column a check or a reference names, in order, without repeats."""
        names = list(self.columns)
        if self.reference is not None:
            names += [n for n in self.reference.columns if n not in self.columns]
        return names
