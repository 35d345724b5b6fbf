"""Models made of several files (code models, PyTorch): a manifest that pins each by digest.

A bundle's ``model/model.bin`` is a JSON manifest naming its entry point, its code files
(``code/<path>.py``) and its safe-format artifacts (``artifacts/<name>``), each by digest,
so the one digest a version records pins every byte. The code's own digest (entry plus
code files) is what a principal allowed ``registry:RegisterCode`` vouches for; loading
checks it against the version's record (a ``CodeGrant``) before any of the code runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shipyard.errors import IntegrityError, InvalidInput, ShipyardError, UnsafeArtifact
from shipyard.flavors._artifact import artifact_digest, looks_like_pickle, refuse_pickle

BUNDLE_FORMAT = "shipyard.bundle/1"
CODE_FLAVORS: frozenset[str] = frozenset({"code", "pytorch"})
SAFE_SUFFIXES = (".safetensors", ".npy", ".json", ".parquet", ".onnx")
MAX_MANIFEST_BYTES = 1 << 20
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_CODE_PATH = re.compile(rf"(?:{_IDENTIFIER}/)*{_IDENTIFIER}\.py")
_ARTIFACT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,120}")
_ENTRY = re.compile(rf"{_IDENTIFIER}(?:\.{_IDENTIFIER})*:{_IDENTIFIER}")

Fetch = Callable[[str], bytes]
"""Reads a blob by digest (verified), e.g. ``platform.blobs.get_bytes``."""


@dataclass(frozen=True)
class CodeGrant:
    """What a model version records about its code: the digest a principal allowed
    ``registry:RegisterCode`` registered, and who that was."""

    digest: str
    registered_by: str


class BundleManifest(BaseModel):
    """The JSON document stored as a bundle's ``model.bin``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["shipyard.bundle/1"]
    entry: str
    code: dict[str, str]
    artifacts: dict[str, str] = {}
    options: dict[str, Any] = {}

    @field_validator("entry")
    @classmethod
    def _entry(cls, value: str) -> str:
        if not _ENTRY.fullmatch(value):
            raise ValueError("must be 'module.path:ClassName'")
        return value

    @field_validator("code")
    @classmethod
    def _code(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("a bundle needs at least one code file")
        for path in value:
            check_code_path(path)
        return value

    @field_validator("artifacts")
    @classmethod
    def _artifacts(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            check_artifact_name(name)
        return value

    @property
    def code_digest(self) -> str:
        return code_digest(self.entry, self.code)


def check_code_path(path: str) -> str:
    """A code file is ``a/b/c.py`` with identifier segments (an importable module)."""
    if not _CODE_PATH.fullmatch(path) or len(path) > 300:
        raise InvalidInput(
            f"code file {path!r} must be a relative path of identifiers ending in .py",
            field="code",
        )
    return path


def check_artifact_name(name: str) -> str:
    """An artifact is one flat file name in a safe format (never a pickle-based suffix)."""
    if not _ARTIFACT_NAME.fullmatch(name) or not name.endswith(SAFE_SUFFIXES):
        raise InvalidInput(
            f"artifact {name!r} must be a plain file name ending in one of {list(SAFE_SUFFIXES)}",
            field="artifacts",
        )
    return name


def code_digest(entry: str, code: Mapping[str, str]) -> str:
    """The digest of a model's code: its entry point and each code file's digest."""
    document = {"entry": entry, "code": dict(sorted(code.items()))}
    return artifact_digest(orjson.dumps(document, option=orjson.OPT_SORT_KEYS))


def build_manifest(
    entry: str,
    code: Mapping[str, bytes],
    artifacts: Mapping[str, bytes],
    options: Mapping[str, Any] | None = None,
) -> bytes:
    """The manifest bytes of a bundle of ``code`` and ``artifacts`` (checked)."""
    manifest = BundleManifest(
        format=BUNDLE_FORMAT,
        entry=entry,
        code={path: artifact_digest(data) for path, data in code.items()},
        artifacts={name: artifact_digest(data) for name, data in artifacts.items()},
        options=dict(options or {}),
    )
    return orjson.dumps(manifest.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)


def parse_manifest(data: bytes) -> BundleManifest:
    """A bundle manifest from stored bytes; IntegrityError if it is not one."""
    if looks_like_pickle(data):
        raise refuse_pickle("the model bundle")
    if len(data) > MAX_MANIFEST_BYTES:
        raise IntegrityError(f"the bundle manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        return BundleManifest.model_validate(orjson.loads(data))
    except (orjson.JSONDecodeError, ValidationError, InvalidInput) as error:
        raise IntegrityError(f"the model is not a valid bundle manifest: {error}") from None


@dataclass(frozen=True)
class Bundle:
    """A bundle's files, each read and verified against the manifest."""

    manifest: BundleManifest
    code: dict[str, bytes]
    artifacts: dict[str, bytes]


def open_bundle(data: bytes, fetch: Fetch | None, code: CodeGrant | None) -> Bundle:
    """Read a bundle whose code was registered by a principal allowed to: the manifest's
    code digest must be the one the version records, and each file must match its digest."""
    manifest = parse_manifest(data)
    if code is None:
        raise UnsafeArtifact(
            "this model carries code that was not registered with registry:RegisterCode; "
            "its code is never run (register it again as a principal allowed RegisterCode)"
        )
    if manifest.code_digest != code.digest:
        raise IntegrityError(
            f"the model's code hashes to {manifest.code_digest}, but {code.digest} was "
            f"registered by {code.registered_by}; the code changed after registration "
            "and is not run"
        )
    if fetch is None:
        raise IntegrityError("a bundle model needs its blob store to load its files")
    return Bundle(
        manifest,
        {path: _read(fetch, f"code file {path}", digest) for path, digest in manifest.code.items()},
        {name: _read(fetch, f"artifact {name}", d) for name, d in manifest.artifacts.items()},
    )


def _read(fetch: Fetch, what: str, digest: str) -> bytes:
    try:
        data = fetch(digest)
    except ShipyardError as error:
        raise IntegrityError(
            f"{what} of the model cannot be read as registered ({error.message}); "
            "it was altered or removed after registration and is not loaded"
        ) from None
    if artifact_digest(data) != digest:
        raise IntegrityError(
            f"{what} of the model does not match its registered digest {digest}; "
            "it was altered after registration and is not loaded"
        )
    return data
