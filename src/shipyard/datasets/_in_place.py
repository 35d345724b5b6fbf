"""A dataset version's files (and other large blobs) read where they lie.

A local blob store's plaintext files are read in place, with no copy; their digests are
checked on a background thread while the caller reads them (a file verified before in the
same state is trusted by its stamp, see ``LocalBlobStore``), and ``verify`` must pass before
anything is written from what was read. Encrypted blobs and any other store's blobs are
downloaded (decrypted and verified on the way) to a scratch directory, private to this
process, that lives as long as this object; ``sources`` reads sealed blobs through ranged
readers instead, which decrypt only what is read. Blobs read "apart" (prepared
indexes, say) have their checks kept apart, so that a caller can rebuild a corrupt one
rather than fail.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from shipyard.datasets._versions import VersionFile, scratch_directory
from shipyard.errors import IntegrityError
from shipyard.platform import Platform
from shipyard.store.blobs import LocalBlobStore


class InPlaceFiles:
    """Local paths of blobs; a context manager that owns any downloads and pending checks."""

    def __init__(self, platform: Platform, scratch: Path | None = None) -> None:
        """``scratch``: where downloads go (default: a temporary directory of the platform's)."""
        self._platform = platform
        self._directory = scratch
        self._checks: list[Future[bool]] = []
        self._apart_checks: dict[str, Future[bool]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-verify")
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._known: dict[str, Path] = {}
        self._readers: dict[str, BinaryIO] = {}

    def sources(self, files: list[VersionFile]) -> list[Path | BinaryIO]:
        """What each file can be read from now: a path as ``paths`` gives, or for a sealed
        blob a seekable reader that decrypts only the chunks read (each authenticated; see
        ``BlobStore.ranged_reader``), closed with this object."""
        return [self._source(stored.digest) for stored in files]

    def _source(self, digest: str) -> Path | BinaryIO:
        if digest in self._readers:
            return self._readers[digest]
        if digest not in self._known and self._platform.blobs.local_file(digest) is None:
            reader = self._platform.blobs.ranged_reader(digest)
            if reader is not None:
                self._readers[digest] = reader
                return reader
        return self._path(digest, self._checks.append)

    def paths(self, files: list[VersionFile]) -> list[Path]:
        """Where each file can be read from now (its check pending until ``verify``)."""
        return [self._path(stored.digest, self._checks.append) for stored in files]

    def apart_path(self, digest: str) -> Path:
        """Where a blob can be read from now (its check pending: ``corrupt_apart``)."""

        def keep(check: Future[bool]) -> None:
            self._apart_checks[digest] = check

        return self._path(digest, keep)

    def _path(self, digest: str, keep: Callable[[Future[bool]], None]) -> Path:
        if digest in self._known:
            return self._known[digest]
        blobs = self._platform.blobs
        path = blobs.local_file(digest)
        if path is not None and isinstance(blobs, LocalBlobStore):
            keep(self._pool.submit(blobs.verify_in_place, digest))
        else:
            target = self._downloads() / f"{len(self._known)}.blob"
            try:
                path = blobs.download(digest, target, durable=False)  # scratch: no syncs
            except IntegrityError as error:  # found corrupt now: recorded as its check
                failed: Future[bool] = Future()
                failed.set_exception(error)
                keep(failed)
                raise
        self._known[digest] = path
        return path

    def _downloads(self) -> Path:
        if self._directory is None:
            self._scratch = tempfile.TemporaryDirectory(
                dir=scratch_directory(self._platform), prefix="in-place-"
            )
            self._directory = Path(self._scratch.name)
        return self._directory

    def verify(self) -> None:
        """Wait for the digest checks; IntegrityError if any file is not what it should be."""
        for check in self._checks:
            check.result()

    def corrupt_apart(self) -> set[str]:
        """Wait for the checks of blobs read apart; the digests of those that failed."""
        failed = set()
        for digest, check in self._apart_checks.items():
            try:
                check.result()
            except IntegrityError:
                failed.add(digest)
        return failed

    def forget(self, digests: set[str]) -> None:
        """Drop known paths (of blobs found corrupt) so they are looked up afresh."""
        for digest in digests:
            self._known.pop(digest, None)
            self._apart_checks.pop(digest, None)

    def __enter__(self) -> InPlaceFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for reader in self._readers.values():
            reader.close()
        if self._scratch is not None:
            self._scratch.cleanup()
