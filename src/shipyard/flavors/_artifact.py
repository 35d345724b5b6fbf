"""Digests of stored model bytes, and refusing bytes that are not what their flavor claims."""

from __future__ import annotations

import hashlib

from shipyard.errors import IntegrityError, UnsafeArtifact

_PICKLE_PROTOCOL_0_STARTS = frozenset(b"(c]}NIFLSVX")
PICKLE_ALTERNATIVE = (
    "pickle-based model formats are never loaded; log it with shipyard's log_model "
    "(skops for scikit-learn, native LightGBM/XGBoost, safetensors for PyTorch) "
    "or export it to ONNX"
)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".cloudpickle", ".dill")


def artifact_digest(data: bytes) -> str:
    """The digest Shipyard records for stored bytes: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def verify_digest(data: bytes, expected_digest: str) -> None:
    """Raise IntegrityError unless ``data`` hashes to ``expected_digest``."""
    actual = artifact_digest(data)
    if actual != expected_digest:
        raise IntegrityError(
            f"model bytes hash to {actual}, but {expected_digest} was recorded; "
            "the artifact was altered or corrupted"
        )


def looks_like_pickle(data: bytes) -> bool:
    """True for bytes that start like a Python pickle (any protocol)."""
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    return len(data) > 0 and data[0] in _PICKLE_PROTOCOL_0_STARTS and data.rstrip().endswith(b".")


def refuse_pickle(what: str) -> UnsafeArtifact:
    """The one refusal for a pickle-based model (a pickle in disguise, an MLflow sklearn
    pickle or cloudpickle pyfunc): stored fine, never loaded, registered or served."""
    return UnsafeArtifact(f"{what} is pickle-based: {PICKLE_ALTERNATIVE}")


def require_magic(data: bytes, magic: bytes, flavor: str) -> None:
    """Refuse bytes that do not start like a ``flavor`` artifact; name pickles as unsafe."""
    if data.startswith(magic):
        return
    if looks_like_pickle(data):
        raise refuse_pickle(f"the {flavor} artifact")
    raise IntegrityError(f"the artifact is not a {flavor} model: unexpected leading bytes")
