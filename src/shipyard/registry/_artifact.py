"""Checking a run's model before it is registered: its meta document, flavor and bytes.

A version enters the registry only if it will load: ``model/meta.json`` must be a JSON
object with a known ``flavor`` and a valid ``signature``, and ``model/model.bin`` must
load as that flavor's safe format (never a pickle) and fit the signature. A bundle (code
or PyTorch model) must name only files of the same run, each in a safe format; its code
is not run here (the control plane never runs model code), only when a serving, batch or
edge process loads the registered version. Every problem is the caller's to fix, so each
is an ``InvalidInput`` naming the run and the artifact (or an ``UnsafeArtifact`` for bytes
that would need untrusted code, e.g. a model an MLflow client logged as a pickle).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact
from shipyard.flavors import (
    CODE_FLAVORS,
    MODEL_ARTIFACT,
    MODEL_META,
    PICKLE_SUFFIXES,
    ModelMeta,
    bundle_path,
    parse_manifest,
    refuse_pickle,
)
from shipyard.platform import Platform
from shipyard.store.metadata import tables as t
from shipyard.tracking import artifact_row

MAX_META_BYTES = 16 << 20
CLIENT_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


@dataclass(frozen=True)
class CheckedModel:
    """A run's model that loads: what a model version records about it."""

    flavor: str
    signature: dict[str, Any]
    digest: str
    size_bytes: int
    code_digest: str | None = None


def check_client_token(token: str) -> str:
    """A client token is 1 to 64 letters, digits, '_', '.', ':' or '-' (a UUID fits)."""
    if not CLIENT_TOKEN.fullmatch(token):
        raise InvalidInput(
            "must be 1 to 64 letters, digits, '_', '.', ':' or '-'", field="client_token"
        )
    return token


def check_run_model(platform: Platform, session: Session, run_id: str) -> CheckedModel:
    """The run's model, once its meta document is valid and its bytes load as declared."""
    refuse_pickle_based(session, run_id)
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
    code_digest = None
    try:
        if meta.flavor in CODE_FLAVORS:
            code_digest = _check_bundle(platform, session, run_id, data, meta)
        else:
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
        code_digest=code_digest,
    )


def run_model_has_code(session: Session, run_id: str) -> bool:
    """Whether the run stores model code (``model/code/...``): registering a code or PyTorch
    model runs none of it, but serving it will, so it needs ``registry:RegisterCode``. A
    bundle may name no code file outside ``model/code/``, so this is decided from the
    metadata alone, before anything is read."""
    prefix = bundle_path("code", "")
    found = session.scalar(
        sa.select(t.RunArtifact.path)
        .where(t.RunArtifact.run_id == run_id, t.RunArtifact.path.startswith(prefix))
        .limit(1)
    )
    return found is not None


def refuse_pickle_based(session: Session, run_id: str) -> None:
    """Refuse a run whose model is stored pickle-based (an MLflow ``MLmodel`` directory with
    a pickle, or no Shipyard meta beside .pkl/.pt files): stored fine, never registered."""
    paths = list(
        session.scalars(sa.select(t.RunArtifact.path).where(t.RunArtifact.run_id == run_id))
    )
    if MODEL_META in paths:
        return
    pickled = sorted(p for p in paths if p.lower().endswith(PICKLE_SUFFIXES))
    if pickled:
        raise refuse_pickle(f"the model of run {run_id} ({', '.join(pickled[:3])})")
    if any(p == "MLmodel" or p.endswith("/MLmodel") for p in paths):
        raise _invalid(
            run_id,
            f"it holds an MLflow model directory but no {MODEL_META}; log the model with "
            "shipyard's log_model (an ONNX file can be logged as is)",
        )


def _check_bundle(
    platform: Platform, session: Session, run_id: str, data: bytes, meta: ModelMeta
) -> str:
    """The code digest of a bundle whose every file is an artifact of this run, in a safe
    format; the manifest may name nothing else (no other run's or dataset's blobs)."""
    from shipyard.flavors import check_safe_artifact

    manifest = parse_manifest(data)
    named = [("code", p, d) for p, d in manifest.code.items()]
    named += [("artifacts", n, d) for n, d in manifest.artifacts.items()]
    for kind, name, digest in named:
        path = bundle_path(kind, name)
        row = session.get(t.RunArtifact, (run_id, path))
        if row is None or row.digest != digest:
            raise _invalid(run_id, f"{MODEL_ARTIFACT} names {path} ({digest}), not in this run")
        if kind == "artifacts":
            check_safe_artifact(name, platform.blobs.get_bytes(digest))
    if meta.code_digest is not None and meta.code_digest != manifest.code_digest:
        raise _invalid(run_id, f"{MODEL_META} records another code digest than the model's")
    return manifest.code_digest


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
