"""Blobs in a local directory, written through a temporary file and an atomic rename.

Large blobs (dataset files, prepared indexes) are read where they lie. Such a read is
verified once per state of the file, as git trusts its index: a file that hashed to its
digest is stamped with its inode, size, mtime and ctime (under ``<root>/verified``), and a
later in-place read of the file in that same state trusts the stamp instead of hashing
again. Any write, truncation or replacement changes ctime, which no unprivileged call can
set back. A file changed less than ``racy_seconds`` before it was hashed is not stamped,
since a change within the same coarse kernel clock tick could leave ctime as it was.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from shipyard.store._scratch import process_scratch, sweep_scratch
from shipyard.store.blobs._base import BlobStore, _corrupt, blob_key
from shipyard.store.blobs._crypto import MAGIC
from shipyard.store.blobs._files import copy_to_temp, replace_durably

_STAMPS = "verified"


def _state(stat: os.stat_result) -> str:
    return f"{stat.st_ino} {stat.st_size} {stat.st_mtime_ns} {stat.st_ctime_ns}"


class LocalBlobStore(BlobStore):
    """A blob store rooted at a local directory; temporary files live in ``<root>/tmp``."""

    racy_seconds = 2.0

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()
        self._tmp = self.root / "tmp"
        with self._translated(None):
            self._tmp.mkdir(parents=True, exist_ok=True)
            sweep_scratch(self._tmp)  # what killed writers left

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
        self._write_stream(key, io.BytesIO(data))

    def _write_stream(
        self, key: str, source: BinaryIO, check: Callable[[], None] | None = None
    ) -> None:
        scratch = process_scratch(self._tmp)
        with copy_to_temp(source, scratch, prefix="put-", hashing=False) as (temp, _):
            if check is not None:
                check()
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            replace_durably(temp, target)

    def _spool(self) -> BinaryIO:
        return tempfile.TemporaryFile(dir=process_scratch(self._tmp), prefix="spool-")

    def _list(self) -> Iterator[str]:
        for path in (self.root / "sha256").rglob("*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def local_file(self, digest: str) -> Path | None:
        path = self.file_path(digest)
        with self._translated(digest), path.open("rb") as source:
            if source.read(len(MAGIC)) == MAGIC:
                return None
        return path

    def _put_stream(self, stream: BinaryIO) -> str:
        with copy_to_temp(stream, process_scratch(self._tmp), prefix="put-") as (temp, digest):
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
        (self.root / _STAMPS / key).unlink(missing_ok=True)

    def file_path(self, digest: str) -> Path:
        """Where the blob's file lies (read it in place only if ``local_file`` says so)."""
        path = self._path(blob_key(digest))
        with self._translated(digest):
            if not path.is_file():
                raise FileNotFoundError(path)
        return path

    def verify_in_place(self, digest: str) -> bool:
        """IntegrityError unless the blob's file holds its digest's bytes; whether it was
        hashed (False: a stamp of this very file state says it was verified before)."""
        key = blob_key(digest)
        path, stamp = self._path(key), self.root / _STAMPS / key
        with self._translated(digest):
            before = path.stat()
            with contextlib.suppress(OSError):
                if stamp.read_text() == _state(before):
                    return False
            started = time.time_ns()
            with path.open("rb") as source:
                actual = "sha256:" + hashlib.file_digest(source, "sha256").hexdigest()
            if actual != digest:
                raise _corrupt(digest, actual)
            after = path.stat()
        settled = started - after.st_ctime_ns >= self.racy_seconds * 1e9
        if _state(after) == _state(before) and settled:
            self._stamp(stamp, _state(after))
        return True

    def _stamp(self, stamp: Path, state: str) -> None:
        """Record a verified file state; a stamp lost (or never written) only costs a hash."""
        with contextlib.suppress(OSError):
            stamp.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=stamp.parent, prefix=".stamp-")
            try:
                with open(fd, "w") as sink:
                    sink.write(state)
                os.replace(name, stamp)
            finally:
                Path(name).unlink(missing_ok=True)
