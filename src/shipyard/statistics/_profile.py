"""The profile documents a summary turns into: stored with dataset versions, shown by the CLI."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from shipyard.schemas.datasets import ColumnType

TOP_VALUES = 10
QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
_NON_FINITE_JSON = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


class Quantiles(BaseModel):
    """Quantiles with linear interpolation (as numpy.quantile), exact unless the profile
    lists them among its estimates."""

    model_config = ConfigDict(ser_json_inf_nan="strings")

    p01: float
    p05: float
    p25: float
    p50: float
    p75: float
    p95: float
    p99: float


class ValueCount(BaseModel):
    """A value and the number of rows holding it."""

    value: str | bool
    count: int


class ColumnProfile(BaseModel):
    """Statistics of one column; fields that do not apply to its type are None.

    A NaN in a float column counts as missing: it is in ``nulls`` (and ``nans``) and left
    out of every other statistic. ``std`` is the sample standard deviation (ddof=1). Ties
    in ``top_values`` are ordered by value. ``distinct``, ``quantiles`` and ``top_values``
    are exact on small columns and estimates on large ones; a stored profile's ``method``
    says which. Infinities are values: they can make ``mean`` or ``std`` infinite or NaN,
    which JSON carries as the strings "Infinity" and "NaN".
    """

    model_config = ConfigDict(ser_json_inf_nan="strings")

    name: str
    type: ColumnType
    count: int
    nulls: int
    nans: int
    null_fraction: float
    distinct: int
    min: int | float | str | None = None
    max: int | float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: Quantiles | None = None
    top_values: list[ValueCount] | None = None
    min_length: int | None = None
    max_length: int | None = None

    @field_serializer("min", "max", when_used="json")
    def _non_finite_as_string(self, value: int | float | str | None) -> int | float | str | None:
        if isinstance(value, float) and not math.isfinite(value):
            return _NON_FINITE_JSON[str(value)]
        return value

    @field_validator("min", "max", mode="before")
    @classmethod
    def _non_finite_from_string(cls, value: object) -> object:
        if isinstance(value, str) and value in _NON_FINITE_JSON.values():
            return float(value)
        return value


class DatasetProfile(BaseModel):
    """Row count and one profile per column, in column order."""

    rows: int
    columns: list[ColumnProfile]
