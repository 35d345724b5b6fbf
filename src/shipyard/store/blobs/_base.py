"""The blob store interface: immutable bytes named by their SHA-256 digest."""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from shipyard.errors import IntegrityError, InvalidInput, NotFound, ShipyardError, StorageError
from shipyard.store.blobs._files import copy_to_temp, replace_durably

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def compute_digest(data: bytes) -> str:
    """The digest ``"sha256:<hex>"`` that names ``data`` in a blob store."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def validate_digest(digest: object) -> str:
    """Return ``digest`` if it is a well-formed ``"sha256:<64 lowercase hex>"`` string."""
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidInput(
            f"expected 'sha256:' and 64 lowercase hex digits, got {digest!r:.80}", field="digest"
        )
    return digest


def blob_key(digest: str) -> str:
    """The key of a blob below the store root: ``sha256/ab/cd/<hex>``."""
    hex_ = validate_digest(digest).removeprefix("sha256:")
    return f"sha256/{hex_[:2]}/{hex_[2:4]}/{hex_}"


class BlobStore(ABC):
    """Content-addressed, write-once storage; every read is checked against its digest.

    Subclasses provide the storage primitives; this class validates digests, verifies
    content and translates backend errors into ``shipyard.errors`` in one place.
    """

    backend_errors: tuple[type[BaseException], ...] = ()

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the store lives, as a URL (``file:///...``, ``s3://bucket/prefix``)."""

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its digest; storing known content is a no-op."""
        digest = compute_digest(data)
        key = blob_key(digest)
        with self._translated(None):
            if not self._exists(key):
                self._write_bytes(key, data)
        return digest

    def put_file(self, path: str | os.PathLike[str]) -> str:
        """Store the file at ``path`` in constant memory and return its digest."""
        try:
            source = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InvalidInput(
                f"cannot read {os.fspath(path)!r}: {exc.strerror}", field="path"
            ) from exc
        with source, self._translated(None):
            return self._put_file(source, Path(path))

    def adopt_file(self, path: str | os.PathLike[str], digest: str) -> str:
        """Store the file at ``path``, whose bytes the caller hashed to ``digest``, consuming it.

        For files the caller wrote itself and hashed as it wrote them (a staged dataset
        file), so the store need not read them again: a local store renames the file into
        place when it is on the same filesystem (else copies it), an object store uploads it
        and checks the digest on the way. Known content is not stored again. The file is gone
        afterwards either way; reads still verify every blob against its digest.
        """
        key = blob_key(digest)
        source = Path(path)
        with self._translated(None):
            if not self._exists(key) and not self._adopt(source, key):
                stored = self.put_file(source)
                if stored != digest:
                    raise _corrupt(digest, stored)
            source.unlink(missing_ok=True)
        return digest

    def put_stream(self, stream: BinaryIO) -> str:
        """Store everything read from ``stream`` and return its digest."""
        with self._translated(None):
            return self._put_stream(stream)

    def get_bytes(self, digest: str) -> bytes:
        """The content stored under ``digest``, verified against it."""
        key = blob_key(digest)
        with self._translated(digest):
            data = self._read(key)
        actual = compute_digest(data)
        if actual != digest:
            raise _corrupt(digest, actual)
        return data

    def download(self, digest: str, dest: str | os.PathLike[str]) -> Path:
        """Write the blob to ``dest`` atomically, verifying it on the way; return ``dest``."""
        key = blob_key(digest)
        target = Path(dest)
        with self._translated(digest), self._open(key) as source:
            target.parent.mkdir(parents=True, exist_ok=True)
            with copy_to_temp(source, target.parent, prefix=f".{target.name}.") as (temp, actual):
                if actual != digest:
                    raise _corrupt(digest, actual)
                replace_durably(temp, target)
        return target

    def exists(self, digest: str) -> bool:
        """Whether a blob is stored under ``digest``."""
        key = blob_key(digest)
        with self._translated(digest):
            return self._exists(key)

    def size(self, digest: str) -> int:
        """The stored size of the blob in bytes."""
        key = blob_key(digest)
        with self._translated(digest):
            return self._size(key)

    def delete(self, digest: str) -> None:
        """Remove the blob; raises NotFound if there is none."""
        key = blob_key(digest)
        with self._translated(digest):
            self._delete(key)

    @contextmanager
    def _translated(self, digest: str | None) -> Iterator[None]:
        backend_errors: tuple[type[BaseException], ...] = (OSError, *self.backend_errors)
        try:
            yield
        except ShipyardError:
            raise
        except FileNotFoundError as exc:
            if digest is None:
                raise StorageError(f"blob store {self.url} failed: {exc}") from exc
            raise NotFound(f"no blob {digest} in {self.url}") from exc
        except backend_errors as exc:
            raise StorageError(f"blob store {self.url} failed: {exc}") from exc

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _size(self, key: str) -> int: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...

    @abstractmethod
    def _open(self, key: str) -> BinaryIO: ...

    @abstractmethod
    def _write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _put_stream(self, stream: BinaryIO) -> str: ...

    def _put_file(self, source: BinaryIO, path: Path) -> str:
        return self._put_stream(source)

    def _adopt(self, path: Path, key: str) -> bool:
        """Move ``path`` into place under ``key`` if the backend can; False to copy instead."""
        return False

    @abstractmethod
    def _delete(self, key: str) -> None: ...


def _corrupt(digest: str, actual: str) -> IntegrityError:
    return IntegrityError(f"blob {digest} is corrupt: its stored bytes hash to {actual}")
