"""The one layout of a model inside a run: which artifact holds what.

Everything that writes or reads a run's model goes through this module: the training
worker and ``log_model`` (writing), the registry (checking and registering) and edge
export (its validation rows)::

    model/meta.json           flavor, signature, digests; written last, so a model whose
                              upload was cut short has no meta and cannot be registered
    model/model.bin           the model in its flavor's safe format (a bundle manifest for
                              code and PyTorch models)
    model/code/<path>.py      a bundle's code files
    model/artifacts/<name>    a bundle's safe-format artifacts
    model/validation.parquet  rows the model was validated on (training jobs), for parity
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from shipyard.flavors._artifact import artifact_digest
from shipyard.flavors._base import ModelSignature

MODEL_DIR = "model"
MODEL_ARTIFACT = "model/model.bin"
MODEL_META = "model/meta.json"
VALIDATION_ARTIFACT = "model/validation.parquet"
CODE_PREFIX = "code/"
ARTIFACTS_PREFIX = "artifacts/"


class ModelMeta(BaseModel):
    """The part of ``model/meta.json`` the registry relies on (other keys are kept as is)."""

    model_config = ConfigDict(extra="allow")

    flavor: str
    signature: ModelSignature
    digest: str | None = None
    code_digest: str | None = None


@dataclass(frozen=True)
class ValidationRows:
    """The Parquet rows a model was validated on, and how they were chosen."""

    parquet: bytes
    rows: int
    split: str


@dataclass(frozen=True)
class SavedModel:
    """A model serialized in its flavor's safe format, ready to be stored in a run.

    ``files`` are a bundle's code and artifact files, keyed by their path below
    ``model/`` (``code/net.py``, ``artifacts/weights.safetensors``).
    """

    flavor: str
    model_bytes: bytes
    signature: ModelSignature
    files: Mapping[str, bytes] = field(default_factory=dict)
    validation: ValidationRows | None = None
    code_digest: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        """The ``model/meta.json`` document of this model."""
        document: dict[str, Any] = {
            **self.extra,
            "flavor": self.flavor,
            "digest": artifact_digest(self.model_bytes),
            "signature": self.signature.model_dump(mode="json"),
        }
        if self.code_digest is not None:
            document["code_digest"] = self.code_digest
        if self.validation is not None:
            document["validation"] = {
                "path": VALIDATION_ARTIFACT,
                "digest": artifact_digest(self.validation.parquet),
                "rows": self.validation.rows,
                "split": self.validation.split,
            }
        return document

    def artifacts(self) -> list[tuple[str, bytes]]:
        """Every ``(run artifact path, bytes)`` to store, in order: meta last."""
        stored = [(f"{MODEL_DIR}/{path}", data) for path, data in sorted(self.files.items())]
        stored.append((MODEL_ARTIFACT, self.model_bytes))
        if self.validation is not None:
            stored.append((VALIDATION_ARTIFACT, self.validation.parquet))
        stored.append((MODEL_META, orjson.dumps(self.meta())))
        return stored


def bundle_path(kind: str, name: str) -> str:
    """The run artifact path of a bundle's code file or artifact (``kind`` code/artifacts)."""
    return f"{MODEL_DIR}/{kind}/{name}"
