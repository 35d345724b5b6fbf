"""Blobs in a local directory, written through a temporary file and an atomic rename."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import BinaryIO

from shipyard.store.blobs._base import BlobStore, blob_key
from shipyard.store.blobs._files import copy_to_temp, replace_durably


class LocalBlobStore(BlobStore):
    """A blob store rooted at a local directory; temporary files live in ``<root>/tmp``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()
        self._tmp = self.root / "tmp"
        with self._translated(None):
            self._tmp.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / key

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def _read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def _open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def _write_bytes(self, key: str, data: bytes) -> None:
        self._put_stream(io.BytesIO(data))

    def _put_stream(self, stream: BinaryIO) -> str:
        with copy_to_temp(stream, self._tmp, prefix="put-") as (temp, digest):
            target = self._path(blob_key(digest))
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_durably(temp, target)
        return digest

    def _adopt(self, path: Path, key: str) -> bool:
        """Sync ``path`` and rename it into place; False when it is on another filesystem."""
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fchmod(fd, 0o600)  # as a copied-in blob (``mkstemp``) would be
            os.fsync(fd)
        finally:
            os.close(fd)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            replace_durably(path, target)
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                return False
            raise
        return True

    def _delete(self, key: str) -> None:
        self._path(key).unlink()
