"""Contract tests every blob store backend passes (local directory and S3)."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import Conflict, IntegrityError, InvalidInput, NotFound, StorageError
from shipyard.store.blobs import (
    BlobStore,
    FsspecBlobStore,
    LocalBlobStore,
    blob_key,
    compute_digest,
    open_blob_store,
)

MiB = 1 << 20


@dataclass
class Backend:
    """A blob store plus raw access to what it keeps, bypassing the store."""

    store: BlobStore
    write_raw: Callable[[str, bytes], None]
    keys: Callable[[], list[str]]


def _local_backend(root: Path, encryption: dict[str, Any] | None = None) -> Backend:
    def write_raw(key: str, data: bytes) -> None:
        (root / key).write_bytes(data)

    def keys() -> list[str]:  # blobs only, not the writers' scratch space under tmp/
        files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
        return sorted(p.as_posix() for p in files if p.parts[0] != "tmp")

    return Backend(open_blob_store(str(root), encryption=encryption), write_raw, keys)


def _s3_backend(
    options: dict[str, Any], client: Any, encryption: dict[str, Any] | None = None
) -> Backend:
    bucket, prefix = options["url"].removeprefix("s3://").split("/", 1)
    storage_options = {**options["storage_options"], "default_block_size": 5 * MiB}

    def write_raw(key: str, data: bytes) -> None:
        client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=data)

    def keys() -> list[str]:
        listing = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
        return sorted(o["Key"].removeprefix(f"{prefix}/") for o in listing.get("Contents", []))

    store = open_blob_store(options["url"], storage_options=storage_options, encryption=encryption)
    return Backend(store, write_raw, keys)


@pytest.fixture(
    params=[
        "local",
        "local-sealed",
        pytest.param("s3", marks=pytest.mark.s3),
        pytest.param("s3-sealed", marks=pytest.mark.s3),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each blob store backend in turn: a local directory, then an S3 bucket prefix; each
    storing plaintext, then sealing every blob (envelope encryption, keys in a directory)."""
    sealed = request.param.endswith("-sealed")
    encryption = {"keys": str(tmp_path / "keys"), "seal_writes": True} if sealed else None
    if request.param.startswith("local"):
        return _local_backend(tmp_path / "blobs", encryption)
    options = request.getfixturevalue("s3_storage_options")
    return _s3_backend(options, request.getfixturevalue("s3_client"), encryption)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FailingStream(io.RawIOBase):
    """A stream that yields ``good`` bytes, then fails as a broken upload would."""

    def __init__(self, good: bytes) -> None:
        self._good = io.BytesIO(good)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._good.read(len(buffer))
        if not chunk:
            raise RuntimeError("client went away")
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_round_trip(backend: Backend) -> None:
    data = b"weights" * 1000
    digest = backend.store.put_bytes(data)

    assert digest == sha256(data)
    assert backend.store.get_bytes(digest) == data
    assert backend.store.exists(digest)
    assert backend.store.size(digest) == len(data)
    assert backend.keys() == [blob_key(digest)]
    assert blob_key(digest) == f"sha256/{digest[7:9]}/{digest[9:11]}/{digest[7:]}"


def test_empty_blob(backend: Backend) -> None:
    digest = backend.store.put_bytes(b"")

    assert backend.store.get_bytes(digest) == b""
    assert backend.store.size(digest) == 0


def test_identical_content_is_stored_once(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(1000)
    source = tmp_path / "model.bin"
    source.write_bytes(data)

    digests = {
        backend.store.put_bytes(data),
        backend.store.put_bytes(data),
        backend.store.put_file(source),
        backend.store.put_stream(io.BytesIO(data)),
    }

    assert digests == {sha256(data)}
    assert backend.keys() == [blob_key(sha256(data))]


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:../../etc",
        "sha256:../../" + "0" * 58,
        "sha256:" + "A" * 64,
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 64 + "\n",
        "sha256:" + "0" * 64 + "/x",
        "md5:" + "0" * 32,
        "0" * 64,
        "",
        None,
    ],
)
def test_malformed_digests_are_rejected(backend: Backend, tmp_path: Path, digest: Any) -> None:
    calls = [
        backend.store.get_bytes,
        backend.store.exists,
        backend.store.size,
        backend.store.delete,
        lambda d: backend.store.download(d, tmp_path / "out"),
    ]
    for call in calls:
        with pytest.raises(InvalidInput) as excinfo:
            call(digest)
        assert excinfo.value.field == "digest"
    assert not (tmp_path / "out").exists()


def test_corrupted_blob_is_detected_on_read(backend: Backend, tmp_path: Path) -> None:
    digest = backend.store.put_bytes(b"the real model")
    backend.write_raw(blob_key(digest), b"a tampered model")

    with pytest.raises(IntegrityError, match="corrupt"):
        backend.store.get_bytes(digest)
    with pytest.raises(IntegrityError, match="corrupt"):
        backend.store.download(digest, tmp_path / "out" / "model.bin")
    assert list((tmp_path / "out").iterdir()) == []


def test_missing_blob_is_not_found(backend: Backend, tmp_path: Path) -> None:
    digest = compute_digest(b"never stored")

    assert not backend.store.exists(digest)
    with pytest.raises(NotFound):
        backend.store.get_bytes(digest)
    with pytest.raises(NotFound):
        backend.store.size(digest)
    with pytest.raises(NotFound):
        backend.store.delete(digest)
    with pytest.raises(NotFound):
        backend.store.download(digest, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_put_file_and_download_a_multipart_sized_file(backend: Backend, tmp_path: Path) -> None:
    data = os.urandom(12 * MiB + 123)
    source = tmp_path / "big.bin"
    source.write_bytes(data)

    digest = backend.store.put_file(source)
    dest = backend.store.download(digest, tmp_path / "fetched" / "big.bin")

    assert digest == sha256(data)
    assert backend.store.size(digest) == len(data)
    assert dest == tmp_path / "fetched" / "big.bin"
    assert dest.read_bytes() == data
    assert [p.name for p in dest.parent.iterdir()] == ["big.bin"]


def test_download_replaces_an_existing_file(backend: Backend, tmp_path: Path) -> None:
    digest = backend.store.put_bytes(b"new")
    dest = tmp_path / "model.bin"
    dest.write_bytes(b"old contents")

    assert backend.store.download(digest, dest).read_bytes() == b"new"


def test_adopt_file_stores_a_file_hashed_by_its_writer_and_consumes_it(
    backend: Backend, tmp_path: Path
) -> None:
    data = os.urandom(3 * MiB + 5)
    first, again = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    first.write_bytes(data)
    again.write_bytes(data)

    assert backend.store.adopt_file(first, sha256(data)) == sha256(data)
    assert backend.store.adopt_file(again, sha256(data)) == sha256(data)

    assert not first.exists() and not again.exists()
    assert backend.store.get_bytes(sha256(data)) == data
    assert backend.keys() == [blob_key(sha256(data))]


def test_adopt_file_under_a_wrong_digest_is_caught_on_read(
    backend: Backend, tmp_path: Path
) -> None:
    source = tmp_path / "part-0.parquet"
    source.write_bytes(b"actual bytes")
    claimed = sha256(b"other bytes")

    try:
        backend.store.adopt_file(source, claimed)
    except Conflict:
        return  # an uploading backend hashes on the way and refuses
    with pytest.raises(IntegrityError, match="corrupt"):
        backend.store.get_bytes(claimed)


def test_put_stream(backend: Backend) -> None:
    data = os.urandom(3 * MiB)

    digest = backend.store.put_stream(io.BytesIO(data))

    assert digest == sha256(data)
    assert backend.store.get_bytes(digest) == data


def test_put_file_of_a_missing_path_names_the_field(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        backend.store.put_file(tmp_path / "nope.bin")
    assert excinfo.value.field == "path"


def test_delete(backend: Backend) -> None:
    keep = backend.store.put_bytes(b"keep")
    drop = backend.store.put_bytes(b"drop")

    backend.store.delete(drop)

    assert not backend.store.exists(drop)
    assert backend.keys() == [blob_key(keep)]
    with pytest.raises(NotFound):
        backend.store.get_bytes(drop)
    with pytest.raises(NotFound):
        backend.store.delete(drop)


def test_concurrent_puts_of_the_same_content(backend: Backend) -> None:
    data = os.urandom(256 * 1024)

    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(lambda _: backend.store.put_stream(io.BytesIO(data)), range(16)))

    assert digests == {sha256(data)}
    assert backend.store.get_bytes(sha256(data)) == data
    assert backend.keys() == [blob_key(sha256(data))]


def test_a_put_that_fails_midway_leaves_nothing(backend: Backend) -> None:
    stream = io.BufferedReader(FailingStream(os.urandom(3 * MiB)))

    with pytest.raises(RuntimeError, match="client went away"):
        backend.store.put_stream(stream)

    assert backend.keys() == []


@pytest.mark.s3
def test_s3_upload_of_a_file_that_changes_is_aborted(
    s3_storage_options: dict[str, Any], s3_client: Any, tmp_path: Path
) -> None:
    """S3 hashes a file, then uploads it; if the upload reads other bytes, nothing appears.

    ``path`` is a symlink to one FIFO while it is hashed and to another while it is uploaded.
    """
    store = _s3_backend(s3_storage_options, s3_client).store
    first, second = tmp_path / "first.fifo", tmp_path / "second.fifo"
    os.mkfifo(first)
    os.mkfifo(second)
    path = tmp_path / "model.bin"
    path.symlink_to(first)

    def writer() -> None:
        with first.open("wb") as sink:
            (tmp_path / "next").symlink_to(second)
            os.replace(tmp_path / "next", path)
            sink.write(os.urandom(12 * MiB))
        with second.open("wb") as sink:
            sink.write(os.urandom(12 * MiB))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(Conflict, match="changed"):
        store.put_file(path)
    thread.join(timeout=60)

    bucket = s3_storage_options["url"].removeprefix("s3://").split("/")[0]
    assert s3_client.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_killed_local_put_leaves_no_blob(tmp_path: Path) -> None:
    """SIGKILL in the middle of writing: only a temporary file remains, outside ``sha256/``,
    and the next open of the store removes it."""
    root = tmp_path / "blobs"
    fifo = tmp_path / "upload.fifo"
    os.mkfifo(fifo)
    script = (
        "import sys; from shipyard.store.blobs import open_blob_store;"
        "open_blob_store(sys.argv[1]).put_file(sys.argv[2])"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(root), str(fifo)])
    try:
        sink = os.open(fifo, os.O_WRONLY)
        os.write(sink, os.urandom(3 * MiB))
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size >= 2 * MiB for p in root.glob("tmp/*/*.part")):
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait()
        os.close(sink)
    finally:
        child.kill()

    assert not (root / "sha256").exists()
    assert [p.name.endswith(".part") for p in root.glob("tmp/*/*")] == [True]
    assert LocalBlobStore(root).put_bytes(b"still usable") == sha256(b"still usable")
    assert list(root.glob("tmp/*/*")) == []


def test_open_blob_store_urls(tmp_path: Path, s3_storage_options: dict[str, Any]) -> None:
    by_path = open_blob_store(str(tmp_path / "a"))
    by_url = open_blob_store((tmp_path / "b").as_uri())
    on_s3 = open_blob_store(**s3_storage_options)

    assert isinstance(by_path, LocalBlobStore)
    assert by_path.url == (tmp_path / "a").as_uri()
    assert isinstance(by_url, LocalBlobStore)
    assert by_url.root == tmp_path / "b"
    assert isinstance(on_s3, FsspecBlobStore)
    assert on_s3.url == s3_storage_options["url"]


@pytest.mark.parametrize(
    ("url", "options", "field"),
    [
        ("gs://bucket/x", None, "blob_url"),
        ("s3:///no-bucket", None, "blob_url"),
        ("file://otherhost/x", None, "blob_url"),
        ("/tmp/blobs", {"key": "k"}, "storage_options"),
    ],
)
def test_open_blob_store_rejects_bad_config(url: str, options: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        open_blob_store(url, storage_options=options)
    assert excinfo.value.field == field


def test_local_backend_failures_become_storage_errors(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")

    with pytest.raises(StorageError):
        open_blob_store(str(not_a_dir / "blobs"))


@pytest.mark.s3
def test_s3_backend_failures_become_storage_errors(s3_storage_options: dict[str, Any]) -> None:
    options = s3_storage_options["storage_options"]
    missing_bucket = open_blob_store("s3://no-such-bucket-here/x", storage_options=options)

    with pytest.raises(StorageError):
        missing_bucket.put_bytes(b"data")
