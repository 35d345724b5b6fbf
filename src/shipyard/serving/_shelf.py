"""A serving supervisor's shelf of model files, which its workers load from.

The supervisor (which holds the blob store and the key-encryption key) writes each served
(model version, runtime) once, decrypted, into a directory of its own: ``model.json``
(flavor, digest, signature, code grant), ``artifact`` (the stored bytes) and, for bundle
flavors, ``blobs/<digest>`` (each file the bundle names). Directories are 0500 and files
0400, written beside and renamed into place, so a worker never sees half a model. A worker
loads with the flavors' own loaders, digests verified as ever; never a pickle.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import IntegrityError
from shipyard.flavors._base import ModelSignature, Predictor
from shipyard.flavors._bundle import CodeGrant

MANIFEST = "model.json"
ARTIFACT = "artifact"
BLOBS = "blobs"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def shelf_name(model_version_id: int, runtime: str) -> str:
    return f"{int(model_version_id)}-{re.sub(r'[^a-z0-9]', '_', runtime)}"


def shelve(
    root: Path,
    name: str,
    manifest: Mapping[str, Any],
    artifact: bytes,
    blobs: Mapping[str, bytes] | None = None,
) -> Path:
    """Write one model under ``root/name`` unless it is there already; its path."""
    target = root / name
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        (staging / MANIFEST).write_text(json.dumps(dict(manifest)))
        (staging / ARTIFACT).write_bytes(artifact)
        files = [staging / MANIFEST, staging / ARTIFACT]
        if blobs:
            (staging / BLOBS).mkdir()
            for digest, data in blobs.items():
                files.append(staging / BLOBS / _file_of(digest))
                files[-1].write_bytes(data)
            os.chmod(staging / BLOBS, 0o500)
        for path in files:
            os.chmod(path, 0o400)
        os.chmod(staging, 0o500)
        staging.rename(target)
    except BaseException:
        remove_tree(staging)
        raise
    return target


def remove_tree(path: Path) -> None:
    """Delete a shelf (or one model) whatever its modes."""
    if not path.exists():
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _file_of(digest: str) -> str:
    """A blob's file name: its digest's hex (a checked digest, never a path)."""
    if not _DIGEST.fullmatch(digest):
        raise IntegrityError(f"{digest!r} is not a blob digest", field="digest")
    return digest.removeprefix("sha256:")


def load_shelved(path: str | Path) -> Predictor:
    """The predictor of the model shelved at ``path``, digest-verified by its flavor's loader."""
    from shipyard.flavors import load_predictor  # model libraries load only when serving

    folder = Path(path)
    manifest = json.loads((folder / MANIFEST).read_text())
    code = manifest.get("code")

    def fetch(digest: str) -> bytes:
        return (folder / BLOBS / _file_of(digest)).read_bytes()

    return load_predictor(
        manifest["flavor"],
        (folder / ARTIFACT).read_bytes(),
        ModelSignature.model_validate(manifest["signature"]),
        expected_digest=manifest["digest"],
        fetch=fetch,
        code=None if code is None else CodeGrant(code["digest"], code["registered_by"]),
    )
