"""Blobs in an fsspec object store (S3), where an object appears whole or not at all."""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from shipyard.errors import Conflict
from shipyard.store.blobs._base import BlobStore, blob_key
from shipyard.store.blobs._files import HashingReader, copy_hashing, copy_plain, hash_stream


class FsspecBlobStore(BlobStore):
    """A blob store under ``root`` (``bucket/prefix``) of an fsspec object-store filesystem.

    Uploads go through one writable fsspec file: a single PUT, or a multipart upload that
    becomes visible only when completed. A failed upload is aborted, never completed.
    """

    def __init__(
        self,
        fs: Any,
        root: str,
        *,
        url: str,
        backend_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.fs = fs
        self.root = root.strip("/")
        self._url = url
        self.backend_errors = backend_errors

    @property
    def url(self) -> str:
        return self._url

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def _exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def _size(self, key: str) -> int:
        return int(self.fs.size(self._path(key)))

    def _read(self, key: str) -> bytes:
        return cast(bytes, self.fs.cat_file(self._path(key)))

    def _read_head(self, key: str, size: int) -> bytes:
        try:
            return cast(bytes, self.fs.cat_file(self._path(key), start=0, end=size))
        except OSError as error:
            if error.errno == errno.EINVAL and self._size(key) == 0:
                return b""  # S3 refuses any range of an empty object
            raise

    def _open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, self.fs.open(self._path(key), "rb"))

    def _write_bytes(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(self._path(key), data)

    def _write_stream(
        self, key: str, source: BinaryIO, check: Callable[[], None] | None = None
    ) -> None:
        self._send(source, self._path(key), check)

    def _spool(self) -> BinaryIO:
        return tempfile.TemporaryFile(prefix="shipyard-spool-")

    def _list(self) -> Iterator[str]:
        for path in self.fs.find(self._path("sha256")):
            yield str(path).removeprefix(self.root + "/")

    def _put_file(self, source: BinaryIO, path: Path) -> str:
        digest = hash_stream(source)
        with path.open("rb") as again:
            self._upload(again, digest)
        return digest

    def _adopt(self, path: Path, key: str) -> bool:
        """Upload ``path`` under its caller-computed digest without hashing it again."""
        with path.open("rb") as source:
            self._upload(source, "sha256:" + key.rsplit("/", 1)[-1])
        return True

    def _put_stream(self, stream: BinaryIO) -> str:
        with tempfile.TemporaryFile() as spool:
            digest = copy_hashing(stream, spool)
            spool.seek(0)
            self._upload(spool, digest)
        return digest

    def _upload(self, source: BinaryIO, digest: str) -> None:
        key = blob_key(digest)
        if self._exists(key):
            return
        hashing = HashingReader(source)

        def check() -> None:
            if hashing.digest() != digest:
                raise Conflict("the file changed while it was being stored", field="path")

        self._send(hashing.reader(), self._path(key), check)

    def _send(self, source: BinaryIO, path: str, check: Callable[[], None] | None) -> None:
        """Upload ``source`` to ``path``; an upload that fails, or that ``check`` refuses,
        is aborted, never completed."""
        sink = self.fs.open(path, "wb")
        try:
            copy_plain(source, sink)
            if check is not None:
                check()
        except BaseException:
            sink.discard()
            sink.closed = True  # keep fsspec's __del__ from completing the aborted upload
            raise
        sink.close()

    def _delete(self, key: str) -> None:
        path = self._path(key)
        if not self.fs.exists(path):
            raise FileNotFoundError(path)
        self.fs.rm_file(path)
