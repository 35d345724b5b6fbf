"""Transforms in the SDK: apply a YAML spec (with its Python source), run, inspect, lineage."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any, Literal

import yaml

from shipyard.client._group import _Group, read_file
from shipyard.errors import InvalidInput
from shipyard.names import parse_reference
from shipyard.schemas.transforms import (
    DatasetLineage,
    TransformInfo,
    TransformRunInfo,
    TransformSpec,
    TransformVersionInfo,
)


def read_transform_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any], str | None]:
    """The name, spec and Python source (read beside the YAML file) of a transform file."""
    where = Path(path)
    try:
        loaded = yaml.safe_load(read_file(where))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{where.name} is not valid YAML: {error}", field="file") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{where.name} must hold a mapping", field="file")
    name = loaded.pop("name", None)
    if not isinstance(name, str):
        raise InvalidInput(f"{where.name} needs a 'name' for the transform", field="name")
    python = loaded.get("python")
    source = None
    if isinstance(python, dict):
        module = str(python.get("entrypoint", "")).partition(":")[0]
        file = str(python.get("file") or f"{module}.py")
        try:
            source = read_file(where.parent / file).decode()
        except UnicodeDecodeError:
            raise InvalidInput(f"{file} is not UTF-8 text", field="python.file") from None
        python["file"] = file
    return name, loaded, source


class Transforms(_Group):
    def apply(self, path: str | os.PathLike[str]) -> TransformVersionInfo:
        """Register the transform in a YAML file as its next version (unchanged: no new one)."""
        name, spec, source = read_transform_file(path)
        return self.apply_spec(name, spec, source)

    def apply_spec(
        self, name: str, spec: TransformSpec | dict[str, Any], source: str | None = None
    ) -> TransformVersionInfo:
        """Register ``spec`` (and a Python transform's module text) as a version of ``name``."""
        body = spec.model_dump(mode="json") if isinstance(spec, TransformSpec) else spec
        return TransformVersionInfo.model_validate(
            self._t.call("transforms.apply", name=name, spec=body, source=source)
        )

    def run(self, ref: str, *, force: bool = False) -> TransformRunInfo:
        """Run ``name`` (latest version) or ``name@N``; cached if code and inputs are unchanged."""
        parsed = parse_reference(ref, field="transform")
        if parsed.alias is not None:
            raise InvalidInput("transforms have versions, not aliases", field="transform")
        return TransformRunInfo.model_validate(
            self._t.call("transforms.run", name=parsed.name, version=parsed.version, force=force)
        )

    def list(self) -> builtins.list[TransformInfo]:
        return [TransformInfo.model_validate(t) for t in self._t.call("transforms.list")]

    def get(self, ref: str) -> TransformVersionInfo:
        parsed = parse_reference(ref, field="transform")
        return TransformVersionInfo.model_validate(
            self._t.call("transforms.get", name=parsed.name, version=parsed.version)
        )

    def runs(self, name: str) -> builtins.list[TransformRunInfo]:
        return [
            TransformRunInfo.model_validate(r)
            for r in self._t.call("transforms.list_runs", name=name)
        ]

    def lineage(
        self, ref: str, direction: Literal["upstream", "downstream"] = "upstream"
    ) -> DatasetLineage:
        """The transforms and dataset versions upstream (or downstream) of a dataset version."""
        return DatasetLineage.model_validate(
            self._t.call("transforms.lineage", ref=ref, direction=direction)
        )
