"""Edge packages: model.onnx, signature.json, run.py and a manifest of their digests.

A package travels as a reproducible tar.gz (fixed times and owners, sorted
members). Extraction never uses tarfile's extract: it accepts only regular
files with plain names, bounded in size, then checks them against the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from shipyard.errors import IntegrityError, InvalidInput, UnsafeArtifact

MANIFEST = "manifest.json"
PACKAGE_FORMAT = "shipyard-edge-package"
MAX_MEMBERS = 16
MAX_PACKAGE_BYTES = 2 * 1024**3
_RUNNER = Path(__file__).with_name("_runner.py")


def runner_source() -> bytes:
    """The source of run.py: needs only the standard library, numpy and onnxruntime."""
    return _RUNNER.read_bytes()


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def package_files(
    model_onnx: bytes, signature: dict[str, Any], details: dict[str, Any]
) -> dict[str, bytes]:
    """Every file of a package, the manifest last, digests of all the others in it."""
    files = {
        "model.onnx": model_onnx,
        "signature.json": _json(signature),
        "run.py": runner_source(),
    }
    manifest = {
        "format": PACKAGE_FORMAT,
        "format_version": 1,
        **details,
        "runtime": {"python": ">=3.9", "requires": ["onnxruntime", "numpy"]},
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        },
    }
    return files | {MANIFEST: _json(manifest)}


def archive_bytes(files: dict[str, bytes]) -> bytes:
    """A reproducible tar.gz of ``files``: the same files always give the same bytes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def read_archive(data: bytes) -> dict[str, bytes]:
    """The files of a package archive, refusing links, directories, paths and oversize members."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_MEMBERS:
                raise UnsafeArtifact(
                    f"the archive holds {len(members)} members; at most {MAX_MEMBERS}"
                )
            total = 0
            for member in members:
                _check_member(member, files)
                total += member.size
                if total > MAX_PACKAGE_BYTES:
                    raise UnsafeArtifact("the archive unpacks to more than 2 GiB")
                handle = tar.extractfile(member)
                assert handle is not None
                files[member.name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InvalidInput(f"not a readable tar.gz edge package: {exc}", field="archive") from None
    verify_files(files)
    return files


def _check_member(member: tarfile.TarInfo, seen: dict[str, bytes]) -> None:
    name = member.name
    if name in seen:
        raise UnsafeArtifact(f"the archive holds {name!r} twice")
    if not member.isreg():
        raise UnsafeArtifact(f"archive member {name!r} is not a regular file")
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise UnsafeArtifact(f"archive member {name!r} is not a plain file name")


def verify_files(files: dict[str, bytes]) -> dict[str, Any]:
    """The manifest, once every file matches its digest and no file is missing or extra."""
    if MANIFEST not in files:
        raise IntegrityError("the edge package has no manifest.json")
    try:
        manifest = json.loads(files[MANIFEST])
        listed = manifest["files"]
        if manifest.get("format") != PACKAGE_FORMAT or not isinstance(listed, dict):
            raise ValueError("not an edge package manifest")
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"manifest.json is not an edge package manifest: {exc}") from None
    present = set(files) - {MANIFEST}
    if present != set(listed):
        raise IntegrityError(
            f"the package files {sorted(present)} differ from the manifest's {sorted(listed)}"
        )
    for name, entry in listed.items():
        if hashlib.sha256(files[name]).hexdigest() != entry.get("sha256"):
            raise IntegrityError(f"{name} does not match its digest in manifest.json")
    checked: dict[str, Any] = manifest
    return checked


def write_package(files: dict[str, bytes], dest: str | os.PathLike[str]) -> Path:
    """Write verified package files into ``dest`` (created; must hold no other package)."""
    verify_files(files)
    target = Path(dest)
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a directory", field="out")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise InvalidInput(f"{target} is not empty and holds no edge package", field="out")
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        temp = target / f".{name}.part"
        temp.write_bytes(data)
        os.replace(temp, target / name)
    return target


def import_package(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Extract a package archive into ``dest`` safely, verifying every digest first."""
    source = Path(archive)
    if not source.is_file():
        raise InvalidInput(f"{source} does not exist or is not a file", field="archive")
    if source.stat().st_size > MAX_PACKAGE_BYTES:
        raise UnsafeArtifact("the archive is larger than 2 GiB")
    return write_package(read_archive(source.read_bytes()), dest)
