"""Rotating the key-encryption key: a new KEK, every data key re-wrapped under it.

The data itself is never re-encrypted: each object's key slot is rewritten (see
``BlobStore.rewrap``). A rotation is resumable: its target KEK is recorded in the key
provider's directory (``rotation-target``) before the first object is touched and removed
when every object is done, so a rotation that was interrupted (killed, or an object store
failing half-way) carries on under the same KEK when run again, skipping what it did. Every
object opens at every point, since old KEKs stay until removed on request, and only when
no stored object still needs them (an object a writer sealed under the old KEK while the
rotation ran is found by the final count and re-wrapped by running the rotation again).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import InvalidInput
from shipyard.store.blobs._base import BlobStore
from shipyard.store.blobs._kms import KeyProvider

TARGET = "rotation-target"


@dataclass
class RotationReport:
    """What a rotation did: the new KEK, objects re-wrapped (and from which KEKs), whether
    it resumed an interrupted one, and which KEKs objects use now."""

    key_id: str
    rewrapped: int = 0
    plaintext: int = 0
    resumed: bool = False
    previous: Counter[str] = field(default_factory=Counter)
    in_use: Counter[str] = field(default_factory=Counter)
    removed: list[str] = field(default_factory=list)


def pending_rotation(keys: KeyProvider) -> str | None:
    """The target KEK of a rotation that was started and did not finish, if any."""
    try:
        return (keys.directory / TARGET).read_text().strip() or None
    except FileNotFoundError:
        return None


def _record_target(directory: Path, key_id: str) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = directory / f".{TARGET}.{os.getpid()}"
    temp.write_text(key_id)
    os.replace(temp, directory / TARGET)


def rotate_kek(
    store: BlobStore, *, remove_old: bool = False, to_key: str | None = None
) -> RotationReport:
    """Make a new KEK current (``to_key``: adopt that existing key, where the provider
    allows), re-wrap every object's data key under it; with ``remove_old``, then destroy
    every other KEK that no object still uses. Resumes an interrupted rotation instead."""
    if store.envelope is None:
        raise InvalidInput("this blob store has no encryption keys", field="encryption")
    keys = store.envelope.keys
    pending = pending_rotation(keys)
    if pending is not None and to_key is not None and to_key != pending:
        raise InvalidInput(
            f"a rotation to {pending} was interrupted; run it again without --to-key to finish",
            field="to_key",
        )
    if pending is not None:
        report = RotationReport(pending, resumed=True)
    else:
        report = RotationReport(keys.create_key(to_key))
        _record_target(keys.directory, report.key_id)
    for digest in store.digests():
        old = store.rewrap(digest, report.key_id)
        if old is not None:
            report.rewrapped += 1
            report.previous[old] += 1
    for digest in store.digests():
        key_id = store.key_id(digest)
        if key_id is None:
            report.plaintext += 1
        else:
            report.in_use[key_id] += 1
    (keys.directory / TARGET).unlink(missing_ok=True)
    if remove_old:
        for key_id in keys.key_ids():
            if key_id != report.key_id and key_id not in report.in_use:
                keys.remove_key(key_id)
                report.removed.append(key_id)
    return report
