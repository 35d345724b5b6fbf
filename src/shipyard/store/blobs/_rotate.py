"""Rotating the key-encryption key: a new KEK, every data key re-wrapped under it.

The data itself is never re-encrypted: each object's key slot is rewritten (see
``BlobStore.rewrap``). Old KEKs are removed only on request, and only when no stored object
still needs them (an object a writer sealed under the old KEK while the rotation ran is
found by the final count and re-wrapped by running the rotation again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from shipyard.errors import InvalidInput
from shipyard.store.blobs._base import BlobStore


@dataclass
class RotationReport:
    """What a rotation did: the new KEK, objects re-wrapped, and which KEKs objects use now."""

    key_id: str
    rewrapped: int = 0
    plaintext: int = 0
    in_use: Counter[str] = field(default_factory=Counter)
    removed: list[str] = field(default_factory=list)


def rotate_kek(store: BlobStore, *, remove_old: bool = False) -> RotationReport:
    """Make a new KEK current, re-wrap every object's data key under it; with
    ``remove_old``, then destroy every other KEK that no object still uses."""
    if store.envelope is None:
        raise InvalidInput("this blob store has no encryption keys", field="encryption")
    keys = store.envelope.keys
    report = RotationReport(keys.create_key())
    for digest in store.digests():
        if store.rewrap(digest, report.key_id):
            report.rewrapped += 1
    for digest in store.digests():
        key_id = store.key_id(digest)
        if key_id is None:
            report.plaintext += 1
        else:
            report.in_use[key_id] += 1
    if remove_old:
        for key_id in keys.key_ids():
            if key_id != report.key_id and key_id not in report.in_use:
                keys.remove_key(key_id)
                report.removed.append(key_id)
    return report
