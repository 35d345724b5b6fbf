"""Rotating the blob store's key-encryption key as an authorized, audited operation.

The rotation itself (``store.blobs.rotate_kek``) re-wraps every object's data key under a
new KEK and resumes an interrupted run; here it is authorized (``encryption:RotateKeys`` on
``sy:encryption``) and its counts (re-wrapped, from which KEKs, to which) go into the
hash-chained audit log, as does a failure half-way.
"""

from __future__ import annotations

import time

from shipyard.names import resource
from shipyard.schemas.security import KeyRotation
from shipyard.security._context import RequestContext
from shipyard.security._operation import operation
from shipyard.store.blobs import rotate_kek


@operation(
    "encryption:RotateKeys",
    lambda: resource("encryption"),
    mutating=True,
    audit=lambda to_key=None, remove_old=False: {"to_key": to_key, "remove_old": remove_old},
)
def rotate_encryption_keys(
    ctx: RequestContext, to_key: str | None = None, remove_old: bool = False
) -> KeyRotation:
    """Make a new KEK current (``to_key``: an existing KMS key, for ``aws-kms``) and re-wrap
    every blob's data key under it; ``remove_old`` then destroys local KEKs no blob uses.
    Run again after an interruption, it finishes the same rotation."""
    started = time.monotonic()
    report = rotate_kek(ctx.platform.blobs, remove_old=remove_old, to_key=to_key)
    return KeyRotation(
        resource=resource("encryption"),
        kek=report.key_id,
        rewrapped=report.rewrapped,
        previous=dict(report.previous),
        plaintext=report.plaintext,
        resumed=report.resumed,
        in_use=dict(report.in_use),
        removed=report.removed,
        seconds=round(time.monotonic() - started, 3),
    )
