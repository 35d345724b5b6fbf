"""The Parquet files of feature sources, for DuckDB to read where they lie.

A local blob store's files are read in place, with no copy; their digests are checked on a
background thread while the join runs, and ``verify`` must pass before anything is written
from what was read. Any other store's blobs are downloaded (and verified on the way) to a
scratch directory that lives as long as this object. Prepared index blobs (see
``_pit_store``) are read the same way; their checks are kept apart so that a corrupt index
can be rebuilt rather than failing the retrieval.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from shipyard.datasets import VersionFile, scratch_directory
from shipyard.errors import IntegrityError, NotFound
from shipyard.platform import Platform
from shipyard.store.blobs import LocalBlobStore, blob_key


def _file_digest(path: Path) -> str:
    with path.open("rb") as source:
        return "sha256:" + hashlib.file_digest(source, "sha256").hexdigest()


def _check(path: Path, digest: str) -> None:
    actual = _file_digest(path)
    if actual != digest:
        raise IntegrityError(f"blob {digest} is corrupt: its stored bytes hash to {actual}")


class SourceFiles:
    """Local paths of dataset-version files; a context manager that owns any downloads."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._checks: list[Future[None]] = []
        self._index_checks: dict[str, Future[None]] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blob-verify")
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._known: dict[str, Path] = {}

    def paths(self, files: list[VersionFile]) -> list[Path]:
        """Where each file can be read from now (verification of in-place files pending)."""
        return [self._path(stored.digest, self._checks.append) for stored in files]

    def index_path(self, digest: str) -> Path:
        """Where an index blob can be read from now (its check pending: ``corrupt_indexes``)."""

        def keep(check: Future[None]) -> None:
            self._index_checks[digest] = check

        return self._path(digest, keep)

    def _path(self, digest: str, keep: Callable[[Future[None]], None]) -> Path:
        if digest in self._known:
            return self._known[digest]
        blobs = self._platform.blobs
        if isinstance(blobs, LocalBlobStore):
            path = blobs.root / blob_key(digest)
            if not path.is_file():
                raise NotFound(f"no blob {digest} in {blobs.url}")
            keep(self._pool.submit(_check, path, digest))
        else:
            if self._scratch is None:
                self._scratch = tempfile.TemporaryDirectory(
                    dir=scratch_directory(self._platform), prefix="features-"
                )
            path = blobs.download(digest, Path(self._scratch.name) / f"{len(self._known)}.parquet")
        self._known[digest] = path
        return path

    def verify(self) -> None:
        """Wait for the digest checks; IntegrityError if any file is not what it should be."""
        for check in self._checks:
            check.result()

    def corrupt_indexes(self) -> set[str]:
        """Wait for the index blobs' checks; the digests of those that failed."""
        failed = set()
        for digest, check in self._index_checks.items():
            try:
                check.result()
            except IntegrityError:
                failed.add(digest)
        return failed

    def forget(self, digests: set[str]) -> None:
        """Drop known paths (of blobs found corrupt) so they are looked up afresh."""
        for digest in digests:
            self._known.pop(digest, None)
            self._index_checks.pop(digest, None)

    def __enter__(self) -> SourceFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._scratch is not None:
            self._scratch.cleanup()
