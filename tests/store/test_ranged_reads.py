"""Ranged reads of sealed blobs: a seekable reader decrypts only the chunks a read covers,
each still authenticated, on a local store and on S3; dataset reads use it, and one byte
flipped in a stored dataset is still caught."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import IntegrityError
from shipyard.store.blobs import BlobStore, blob_key, open_blob_store
from shipyard.store.blobs._crypto import read_header

CHUNK = 1024


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def sealing(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[BlobStore, Any]:
    """A sealing store with 1 KiB chunks, and a way to replace a stored object's bytes."""
    encryption = {"keys": str(tmp_path / "keys")}
    if request.param == "local":
        store = open_blob_store(str(tmp_path / "blobs"), encryption=encryption)

        def replace(digest: str, data: bytes) -> None:
            (tmp_path / "blobs" / blob_key(digest)).write_bytes(data)

        def raw(digest: str) -> bytes:
            return (tmp_path / "blobs" / blob_key(digest)).read_bytes()

    else:
        options = request.getfixturevalue("s3_storage_options")
        client = request.getfixturevalue("s3_client")
        bucket, prefix = options["url"].removeprefix("s3://").split("/", 1)
        store = open_blob_store(
            options["url"], storage_options=options["storage_options"], encryption=encryption
        )

        def replace(digest: str, data: bytes) -> None:
            client.put_object(Bucket=bucket, Key=f"{prefix}/{blob_key(digest)}", Body=data)

        def raw(digest: str) -> bytes:
            found = client.get_object(Bucket=bucket, Key=f"{prefix}/{blob_key(digest)}")
            return bytes(found["Body"].read())

    assert store.envelope is not None
    store.envelope.chunk_bytes = CHUNK
    return store, (replace, raw)


def _chunks(raw: bytes, digest: str) -> tuple[int, list[tuple[int, int]]]:
    source = io.BytesIO(raw)
    header = len(read_header(source, source.read(13), digest).encode())
    starts = range(header, len(raw), CHUNK + 16)
    return header, [(s, min(s + CHUNK + 16, len(raw))) for s in starts]


def test_ranges_read_back_exactly(sealing: tuple[BlobStore, Any]) -> None:
    store, _ = sealing
    rng = random.Random(7)
    for size in (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 37):
        data = os.urandom(size)
        digest = store.put_bytes(data)
        reader = store.ranged_reader(digest)
        assert reader is not None and reader.seekable()
        assert reader.seek(0, io.SEEK_END) == size
        for _ in range(30):
            start = rng.randrange(size + 2)
            length = rng.randrange(3 * CHUNK)
            reader.seek(start)
            assert reader.read(length) == data[start : start + length]
            assert reader.tell() == min(start + length, max(size, start))
        reader.seek(0)
        assert reader.read() == data
        reader.close()

    assert store.envelope is not None
    store.envelope.seal_writes = False  # stored in plaintext: read in place or downloaded
    assert store.ranged_reader(store.put_bytes(b"stored with encryption off")) is None


def test_only_the_chunks_read_are_decrypted(sealing: tuple[BlobStore, Any]) -> None:
    """A chunk altered away from the range read does not stop the read; read, it does."""
    store, (replace, raw) = sealing
    data = os.urandom(6 * CHUNK + 10)
    digest = store.put_bytes(data)
    good = raw(digest)
    _, chunks = _chunks(good, digest)
    altered = bytearray(good)
    altered[(chunks[3][0] + chunks[3][1]) // 2] ^= 0x01
    replace(digest, bytes(altered))
    reader = store.ranged_reader(digest)
    assert reader is not None
    reader.seek(CHUNK // 2)
    assert reader.read(2 * CHUNK) == data[CHUNK // 2 : CHUNK // 2 + 2 * CHUNK]  # chunks 0-2
    reader.seek(5 * CHUNK)
    assert reader.read() == data[5 * CHUNK :]  # chunks 5-6
    reader.seek(3 * CHUNK + 5)
    with pytest.raises(IntegrityError, match="chunk 3"):
        reader.read(1)
    reader.close()


def test_every_alteration_is_caught_by_a_ranged_read(sealing: tuple[BlobStore, Any]) -> None:
    """One byte flipped in the header, the key slot or any chunk, and each forgery (chunks
    truncated, dropped, swapped, repeated, appended): opening the reader or reading the
    altered part fails."""
    store, (replace, raw) = sealing
    data = os.urandom(3 * CHUNK + 100)
    digest = store.put_bytes(data)
    good = raw(digest)
    header, chunks = _chunks(good, digest)
    positions = set(range(0, header, 7)) | {header - 1}
    for start, end in chunks:
        positions |= {start, (start + end) // 2, end - 1}

    def refused(forged: bytes) -> bool:
        replace(digest, forged)
        try:
            reader = store.ranged_reader(digest)
            if reader is None:  # the magic altered: not sealed, so read whole and hashed
                store.get_bytes(digest)
                return False
            with reader:
                reader.read()
        except IntegrityError:
            return True
        return False

    for position in sorted(positions):
        altered = bytearray(good)
        altered[position] ^= 0x01
        assert refused(bytes(altered)), f"byte {position} flipped"
    (a0, a1), (b0, b1), (c0, _), (d0, _) = chunks
    forgeries = {
        "truncated at a chunk boundary": good[:c0],
        "truncated inside a chunk": good[: b0 + 100],
        "last chunk dropped": good[:d0],
        "a middle chunk dropped": good[:b0] + good[c0:],
        "two chunks swapped": good[:a0] + good[b0:b1] + good[a0:a1] + good[c0:],
        "a chunk repeated": good[:b1] + good[b0:],
        "bytes appended": good + b"\0" * 16,
    }
    for name, forged in forgeries.items():
        assert refused(forged), name
    # a truncated or extended object is refused when the reader opens, before any read
    replace(digest, good[:d0])
    with pytest.raises(IntegrityError):
        store.ranged_reader(digest)
    replace(digest, good)
    reader = store.ranged_reader(digest)
    assert reader is not None and reader.read() == data


def test_dataset_reads_decrypt_ranges_and_catch_a_flipped_byte(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    client = Client(settings=settings)
    rows = 200_000
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "x": pa.array([float(i) * 0.5 for i in range(rows)]),
            "label": pa.array([f"row-{i % 97}" for i in range(rows)]),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=50_000)
    info = client.datasets.ingest(tmp_path / "t.parquet", "t")
    store = open_blob_store(settings.blobs_url, encryption=settings.blob_encryption)
    [digest] = [d for d in store.digests() if store.size(d) > 100_000]
    assert store.ranged_reader(digest) is not None  # the version's file is sealed

    assert client.datasets.read(info.ref).equals(table)
    assert client.datasets.read(info.ref, columns=["x"]).column("x").equals(table.column("x"))
    filtered = client.datasets.read(info.ref, filter="id >= 190000")
    assert filtered.num_rows == 10_000
    assert sum(b.num_rows for b in client.datasets.iter_batches(info.ref)) == rows

    path = Path(settings.blobs_url) / blob_key(digest)
    good = path.read_bytes()
    altered = bytearray(good)
    altered[len(good) // 2] ^= 0x01
    path.write_bytes(bytes(altered))
    with pytest.raises(IntegrityError):
        client.datasets.read(info.ref)
    with pytest.raises(IntegrityError):
        list(client.datasets.iter_batches(info.ref))
    path.write_bytes(good)
    assert client.datasets.read(info.ref).num_rows == rows
    client.close()
