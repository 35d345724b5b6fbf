"""Checking a run's model before it is registered: its meta document, flavor and bytes.

A version enters the registry only if it will load: ``model/meta.json`` must be a JSON
object with a known ``flavor`` and a valid ``signature``, and ``model/model.bin`` must
load as that flavor's safe format (never a pickle) and fit the signature. Every problem
is the caller's to fix, so each is an ``InvalidInput`` naming the run and the artifact
(or an ``UnsafeArtifact`` for bytes that would need untrusted code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.orm import Session

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors import ModelSignature
from shipyard.platform import Platform
from shipyard.tracking import artifact_row

MODEL_ARTIFACT = "model/model.bin"
MODEL_META = "model/meta.json"
MAX_META_BYTES = 16 << 20
CLIENT_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class ModelMeta(BaseModel):
    """The part of ``model/meta.json`` the registry relies on (other keys are kept as is)."""

    model_config = ConfigDict(extra="allow")

    flavor: str
    signature: ModelSignature
    digest: str | None = None


@dataclass(frozen=True)
class CheckedModel:
    """A run's model that loads: what a model version records about it."""

    flavor: str
    signature: dict[str, Any]
    digest: str
    size_bytes: int


def check_client_token(token: str) -> str:
    """A client token is 1 to 64 letters, digits, '_', '.', ':' or '-' (a UUID fits)."""
    if not CLIENT_TOKEN.fullmatch(token):
        raise InvalidInput(
            "must be 1 to 64 letters, digits, '_', '.', ':' or '-'", field="client_token"
        )
    return token


def check_run_model(platform: Platform, session: Session, run_id: str) -> CheckedModel:
    """The run's model, once its meta document is valid and its bytes load as declared."""
    artifact = artifact_row(session, run_id, MODEL_ARTIFACT)
    meta = _meta(platform, session, run_id)
    from shipyard.flavors import FLAVORS, load_predictor  # model libraries load on use

    if meta.flavor not in FLAVORS:
        raise _invalid(
            run_id, f"{MODEL_META} names flavor {meta.flavor!r}; expected one of {list(FLAVORS)}"
        )
    if meta.digest is not None and meta.digest != artifact.digest:
        raise _invalid(
            run_id,
            f"{MODEL_META} records digest {meta.digest}, "
            f"but {MODEL_ARTIFACT} hashes to {artifact.digest}",
        )
    names = meta.signature.input_names
    if not names or len(set(names)) != len(names):
        raise _invalid(run_id, f"{MODEL_META} signature needs one or more distinct input names")
    data = platform.blobs.get_bytes(artifact.digest)
    try:
        load_predictor(meta.flavor, data, meta.signature, expected_digest=artifact.digest)
    except UnsafeArtifact as error:
        raise UnsafeArtifact(f"{MODEL_ARTIFACT} of run {run_id}: {error.message}") from None
    except (IntegrityError, InvalidInput) as error:
        raise _invalid(
            run_id, f"{MODEL_ARTIFACT} does not load as a {meta.flavor} model: {error.message}"
        ) from None
    return CheckedModel(
        flavor=meta.flavor,
        signature=meta.signature.model_dump(mode="json"),
        digest=artifact.digest,
        size_bytes=artifact.size_bytes,
    )


def _meta(platform: Platform, session: Session, run_id: str) -> ModelMeta:
    row = artifact_row(session, run_id, MODEL_META)
    if row.size_bytes > MAX_META_BYTES:
        raise _invalid(run_id, f"{MODEL_META} is larger than {MAX_META_BYTES} bytes")
    try:
        document = orjson.loads(platform.blobs.get_bytes(row.digest))
    except orjson.JSONDecodeError as error:
        raise _invalid(run_id, f"{MODEL_META} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise _invalid(run_id, f"{MODEL_META} must be a JSON object")
    try:
        return ModelMeta.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _invalid(run_id, f"{MODEL_META} key {where!r}: {first['msg']}") from None


def _invalid(run_id: str, problem: str) -> InvalidInput:
    return InvalidInput(f"run {run_id} cannot be registered: {problem}", field="run_id")
