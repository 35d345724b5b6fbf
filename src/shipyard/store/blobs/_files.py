"""Atomic local file writes: hash into a temporary file, fsync, then rename into place."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

CHUNK = 1 << 20


def copy_hashing(source: BinaryIO, sink: BinaryIO) -> str:
    """Copy ``source`` to ``sink`` in chunks and return the digest of what was copied."""
    hasher = hashlib.sha256()
    while chunk := source.read(CHUNK):
        hasher.update(chunk)
        sink.write(chunk)
    return "sha256:" + hasher.hexdigest()


def copy_plain(source: BinaryIO, sink: BinaryIO) -> str:
    """Copy ``source`` to ``sink`` in chunks without hashing (for ciphertext); return ""."""
    while chunk := source.read(CHUNK):
        sink.write(chunk)
    return ""


class HashingReader(io.RawIOBase):
    """Reads from ``source``, hashing everything read."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._hasher = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._source.read(len(target))
        self._hasher.update(data)
        target[: len(data)] = data
        return len(data)

    def reader(self) -> BinaryIO:
        return cast(BinaryIO, self)

    def digest(self) -> str:
        return "sha256:" + self._hasher.hexdigest()


def hash_stream(source: BinaryIO) -> str:
    """The digest of everything left in ``source``."""
    hasher = hashlib.sha256()
    while chunk := source.read(CHUNK):
        hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


@contextlib.contextmanager
def copy_to_temp(
    source: BinaryIO, directory: Path, prefix: str, *, hashing: bool = True, sync: bool = True
) -> Iterator[tuple[Path, str]]:
    """Copy ``source`` into a temporary file in ``directory``, synced unless not ``sync``;
    yield it and its digest (``""`` when not ``hashing``).

    The file is removed on exit unless the caller has renamed it away.
    """
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".part")
    temp = Path(name)
    try:
        with open(fd, "wb") as sink:
            digest = (copy_hashing if hashing else copy_plain)(source, sink)
            sink.flush()
            if sync:
                os.fsync(sink.fileno())
        yield temp, digest
    finally:
        temp.unlink(missing_ok=True)


def replace_durably(temp: Path, target: Path) -> None:
    """Rename ``temp`` over ``target`` and sync the directory so the rename survives a crash."""
    os.replace(temp, target)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
