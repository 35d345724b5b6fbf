"""Sealing small secrets at rest (webhook signing secrets): AES-256-GCM under a key file.

The key is ``<home>/keys/sealing.key`` (32 random bytes, created on first use, mode 0600).
Servers sharing one database must share that file. A sealed value is
``v1:<base64(nonce + ciphertext + tag)>``; the associated data binds it to what it
protects (an alarm's name), so a sealed value copied onto another record does not open.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.config import Settings
from shipyard.errors import IntegrityError

_PREFIX = "v1:"


def _key(settings: Settings) -> bytes:
    path = settings.home / "keys" / "sealing.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(secrets.token_bytes(32))
    key = Path(path).read_bytes()
    if len(key) != 32:
        raise IntegrityError(f"{path} is not a 32-byte key")
    return key


def seal(settings: Settings, plaintext: str, context: str) -> str:
    """Encrypt ``plaintext``, bound to ``context``."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(settings)).encrypt(nonce, plaintext.encode(), context.encode())
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def unseal(settings: Settings, sealed: str, context: str) -> str:
    """Decrypt a sealed value; IntegrityError when it was altered or sealed under another key."""
    if not sealed.startswith(_PREFIX):
        raise IntegrityError("not a sealed value")
    raw = base64.b64decode(sealed[len(_PREFIX) :])
    try:
        plain = AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], context.encode())
    except InvalidTag:
        raise IntegrityError("a sealed secret does not open under this server's key") from None
    return plain.decode()
