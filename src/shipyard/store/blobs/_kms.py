"""Key-encryption keys (KEKs) behind a KMS-shaped interface, as AWS KMS's data-key calls.

A provider makes a fresh data key per object and returns it both in plaintext (to encrypt
with, then forgotten) and wrapped under its current KEK (to store beside the ciphertext);
it unwraps a wrapped key only under the same encryption context, and re-wraps one under
another KEK without the caller ever seeing the data key. The local provider keeps each
KEK in ``<keys>/kek-<id>.key`` (32 random bytes, mode 0600) and the id of the KEK new
objects use in ``<keys>/kek-current``; both are created on first use.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shipyard.errors import IntegrityError, InvalidInput, NotFound

KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_WRAP = b"shipyard-kek-wrap-v1"


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under the KEK ``key_id``."""

    key_id: str
    blob: bytes


def context_bytes(context: Mapping[str, str]) -> bytes:
    """The canonical form of an encryption context, bound as associated data."""
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


class KeyProvider(ABC):
    """Makes, unwraps and re-wraps data keys under key-encryption keys; ``directory`` is
    where the provider keeps its state on this machine (pointers, rotation progress)."""

    directory: Path

    @abstractmethod
    def current_key_id(self) -> str:
        """The KEK new data keys are wrapped under."""

    @abstractmethod
    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        """A fresh 32-byte data key, in plaintext and wrapped under the current KEK."""

    @abstractmethod
    def decrypt(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        """The data key; IntegrityError if it was wrapped under another context or altered."""

    @abstractmethod
    def re_encrypt(
        self, wrapped: WrappedKey, context: Mapping[str, str], new_key_id: str
    ) -> WrappedKey:
        """The same data key wrapped under ``new_key_id`` instead."""

    @abstractmethod
    def create_key(self, to_key: str | None = None) -> str:
        """Make a new KEK (or, where the provider allows, adopt the existing ``to_key``),
        make it current, and return its id."""

    @abstractmethod
    def key_ids(self) -> list[str]:
        """Every KEK this provider holds."""

    @abstractmethod
    def remove_key(self, key_id: str) -> None:
        """Destroy a KEK (never the current one); what it wrapped can no longer be opened."""


class LocalKeyProvider(KeyProvider):
    """KEKs in files under ``directory``; servers sharing a blob store must share them."""

    def __init__(self, directory: Path, *, pinned_key_id: str | None = None) -> None:
        self.directory = directory
        self._pinned = pinned_key_id
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _file(self, key_id: str) -> Path:
        if not KEY_ID.fullmatch(key_id):
            raise IntegrityError(f"{key_id!r:.80} is not a key id")
        return self.directory / f"kek-{key_id}.key"

    def _key(self, key_id: str) -> bytes:
        with self._lock:
            if key_id not in self._keys:
                path = self._file(key_id)
                try:
                    key = path.read_bytes()
                except FileNotFoundError:
                    raise NotFound(
                        f"key-encryption key {key_id!r} is not in {self.directory}"
                    ) from None
                if len(key) != 32:
                    raise IntegrityError(f"{path} is not a 32-byte key")
                self._keys[key_id] = key
            return self._keys[key_id]

    def _new_key_file(self) -> str:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_id = secrets.token_hex(8)
        descriptor = os.open(self._file(key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_bytes(32))
            file.flush()
            os.fsync(file.fileno())
        return key_id

    def _pointer(self) -> Path:
        return self.directory / "kek-current"

    def current_key_id(self) -> str:
        if self._pinned is not None:
            return self._pinned
        try:
            return self._pointer().read_text().strip()
        except FileNotFoundError:
            pass
        key_id = self._new_key_file()
        temp = self._write_temp(key_id)
        try:
            os.link(temp, self._pointer())  # fails if another process made the first KEK
        except FileExistsError:
            self._file(key_id).unlink()
            key_id = self._pointer().read_text().strip()
        finally:
            temp.unlink()
        return key_id

    def _write_temp(self, text: str) -> Path:
        descriptor, name = tempfile.mkstemp(dir=self.directory, prefix=".kek-current-")
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        return Path(name)

    def _wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        nonce = secrets.token_bytes(12)
        aad = _WRAP + key_id.encode() + b"\0" + context_bytes(context)
        return WrappedKey(key_id, nonce + AESGCM(self._key(key_id)).encrypt(nonce, data_key, aad))

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        data_key = secrets.token_bytes(32)
        return data_key, self._wrap(self.current_key_id(), data_key, context)

    def decrypt(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        aad = _WRAP + wrapped.key_id.encode() + b"\0" + context_bytes(context)
        try:
            return AESGCM(self._key(wrapped.key_id)).decrypt(
                wrapped.blob[:12], wrapped.blob[12:], aad
            )
        except (InvalidTag, ValueError):
            raise IntegrityError(
                f"a data key does not open under key-encryption key {wrapped.key_id!r} "
                f"in context {context_bytes(context).decode()}: altered or moved"
            ) from None

    def re_encrypt(
        self, wrapped: WrappedKey, context: Mapping[str, str], new_key_id: str
    ) -> WrappedKey:
        return self._wrap(new_key_id, self.decrypt(wrapped, context), context)

    def create_key(self, to_key: str | None = None) -> str:
        if to_key is not None:
            raise InvalidInput(
                "the local key provider makes its own keys; rotate without --to-key",
                field="to_key",
            )
        if self._pinned is not None:
            raise InvalidInput(
                "the key-encryption key is pinned by the setting kek_id; unset it to rotate",
                field="kek_id",
            )
        key_id = self._new_key_file()
        temp = self._write_temp(key_id)
        os.replace(temp, self._pointer())
        return key_id

    def key_ids(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        found = (p.name[4:-4] for p in self.directory.glob("kek-*.key"))
        return sorted(k for k in found if KEY_ID.fullmatch(k))

    def remove_key(self, key_id: str) -> None:
        if key_id == self.current_key_id():
            raise InvalidInput(f"{key_id!r} is the current key-encryption key", field="key_id")
        self._file(key_id).unlink()
        with self._lock:
            self._keys.pop(key_id, None)
