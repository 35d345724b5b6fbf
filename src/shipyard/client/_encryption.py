"""The SDK's encryption group: ``client.encryption.rotate()``."""

from __future__ import annotations

from shipyard.client._group import _Group
from shipyard.schemas.security import KeyRotation


class Encryption(_Group):
    """Encryption at rest on the server's (or, in-process, this machine's) blob store."""

    def rotate(self, *, to_key: str | None = None, remove_old: bool = False) -> KeyRotation:
        """Make a new KEK current (``to_key``: an existing KMS key, for ``aws-kms``) and
        re-wrap every blob's data key under it; audited. Run again after an interruption,
        it finishes the same rotation."""
        return KeyRotation.model_validate(
            self._t.call("encryption.rotate_keys", to_key=to_key, remove_old=remove_old)
        )
