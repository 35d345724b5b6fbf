"""In-place reads of a local blob store: verified once per file state, stamped, re-hashed
after any change to the file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from shipyard.errors import IntegrityError, NotFound
from shipyard.store.blobs import LocalBlobStore

DATA = b"rows of a dataset file " * 1000
MISSING = "sha256:" + "0" * 64


RACY = 0.05  # well above a kernel clock tick, so a later change always gets a later ctime


@pytest.fixture
def settled(tmp_path: Path) -> LocalBlobStore:
    """A store whose files count as settled ``RACY`` seconds after their last change."""
    store = LocalBlobStore(tmp_path / "blobs")
    store.racy_seconds = RACY
    return store


def _put_settled(store: LocalBlobStore, data: bytes = DATA) -> str:
    digest = store.put_bytes(data)
    time.sleep(RACY * 1.5)
    return digest


def test_a_verified_file_state_is_trusted_until_the_file_changes(
    settled: LocalBlobStore,
) -> None:
    digest = _put_settled(settled)
    assert settled.verify_in_place(digest) is True  # hashed, then stamped
    assert settled.verify_in_place(digest) is False  # the stamp of this very state
    path = settled.file_path(digest)
    before = path.stat()
    with path.open("r+b") as file:  # same size, one byte flipped, mtime put back
        file.seek(100)
        file.write(b"X")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(IntegrityError, match="corrupt"):
        settled.verify_in_place(digest)


def test_a_replaced_file_is_hashed_again(settled: LocalBlobStore, tmp_path: Path) -> None:
    digest = _put_settled(settled)
    settled.verify_in_place(digest)
    path = settled.file_path(digest)
    copy = tmp_path / "copy"
    copy.write_bytes(path.read_bytes())
    os.replace(copy, path)  # same bytes, another inode and ctime: no longer stamped
    time.sleep(RACY * 1.5)
    assert settled.verify_in_place(digest) is True
    assert settled.verify_in_place(digest) is False


def test_a_freshly_changed_file_is_not_stamped(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")  # default racy window: the file is too new
    digest = store.put_bytes(DATA)
    assert store.verify_in_place(digest) is True
    assert store.verify_in_place(digest) is True


def test_deleting_a_blob_drops_its_stamp(settled: LocalBlobStore) -> None:
    digest = _put_settled(settled)
    settled.verify_in_place(digest)
    settled.delete(digest)
    with pytest.raises(NotFound):
        settled.verify_in_place(digest)
    with pytest.raises(NotFound):
        settled.file_path(digest)
    _put_settled(settled)
    assert settled.verify_in_place(digest) is True


def test_a_stamp_never_vouches_for_rewritten_bytes(settled: LocalBlobStore) -> None:
    digest = _put_settled(settled)
    settled.verify_in_place(digest)
    assert [p for p in (settled.root / "verified").rglob("*") if p.is_file()]
    settled.file_path(digest).write_bytes(DATA[:-1] + b"?")  # new ctime: the stamp is stale
    with pytest.raises(IntegrityError):
        settled.verify_in_place(digest)
