"""What a transform is (its spec) and what the transform service returns."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shipyard.schemas._base import WireModel

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\Z")
ENTRYPOINT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)\Z")

Engine = Literal["duckdb", "spark", "python"]


class PythonCode(WireModel):
    """A Python function over Arrow tables: ``module:function`` in a registered source file."""

    model_config = ConfigDict(extra="forbid")

    entrypoint: str = Field(description="module:function; the module is the source file")
    file: str | None = Field(default=None, description="where the source was read from")
    network: Literal["host", "none"] = Field(
        default="host",
        description="none: run in a sandbox with no network, no platform files, no "
        "credentials, as an unprivileged user (Linux)",
    )

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint(cls, value: str) -> str:
        if not ENTRYPOINT.match(value):
            raise ValueError(f"{value!r} is not of the form module:function")
        return value

    @property
    def module(self) -> str:
        return self.entrypoint.partition(":")[0]

    @property
    def function(self) -> str:
        return self.entrypoint.partition(":")[2]


class OutputSpec(WireModel):
    """Where a transform's result goes: a dataset (default: the transform's name)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = None
    partition_by: list[str] = Field(default_factory=list)


class TransformSpec(WireModel):
    """A SQL query (DuckDB dialect) or a Python function from dataset versions to a new one.

    ``inputs`` maps the name a table has in the code to a dataset reference: ``orders``
    (the latest version when the transform runs) or ``orders@3``.
    """

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    inputs: dict[str, str] = Field(min_length=1)
    sql: str | None = None
    python: PythonCode | None = None
    output: OutputSpec = Field(default_factory=OutputSpec)

    @field_validator("inputs")
    @classmethod
    def _aliases(cls, inputs: dict[str, str]) -> dict[str, str]:
        for alias in inputs:
            if not IDENTIFIER.match(alias):
                raise ValueError(
                    f"input name {alias!r} must be an identifier (letters, digits, '_'; "
                    "not starting with a digit) to be used as a table name"
                )
        return inputs

    @model_validator(mode="after")
    def _one_kind(self) -> TransformSpec:
        if (self.sql is None) == (self.python is None):
            raise ValueError("give exactly one of 'sql' and 'python'")
        return self

    @property
    def kind(self) -> Literal["sql", "python"]:
        return "sql" if self.sql is not None else "python"


class TransformVersionInfo(WireModel):
    """One immutable version of a transform."""

    name: str
    version: int
    kind: Literal["sql", "python"]
    spec: TransformSpec
    output_dataset: str
    code_digest: str
    source_digest: str | None
    created_by: str
    created_at: datetime
    created: bool = False

    @property
    def resource(self) -> str:
        return f"sy:transform/{self.name}/{self.version}"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class TransformInfo(WireModel):
    name: str
    versions: int
    latest_version: int
    kind: Literal["sql", "python"]
    output_dataset: str
    runs: int
    last_output: str | None
    created_at: datetime


class TransformRunInfo(WireModel):
    """A run of a transform version: which inputs it read and which version it produced.

    ``cached`` is true when this answer reuses an earlier run with the same code and inputs.
    """

    id: str
    transform: str
    version: int
    engine: Engine
    cached: bool
    cache_key: str
    inputs: dict[str, str]
    output: str
    output_digest: str
    output_rows: int
    created_by: str
    started_at: datetime
    ended_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:transform/{self.transform}/{self.version}"


class LineageNode(WireModel):
    id: str
    kind: Literal["dataset", "transform"]
    label: str


class DatasetLineage(WireModel):
    """Dataset versions and the transform versions between them: ``(from, to)`` edges."""

    root: str
    nodes: list[LineageNode]
    edges: list[tuple[str, str]]
