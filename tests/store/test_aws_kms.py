"""The aws-kms key provider against moto's KMS (a standalone server on 127.0.0.1): data keys
from GenerateDataKey bound to the object's identity, rotation by ReEncrypt, resumable."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.conftest import S3_CREDENTIALS

from shipyard.errors import IntegrityError, InvalidInput, NotFound, StorageError
from shipyard.store.blobs import BlobStore, blob_key, open_blob_store, rotate_kek
from shipyard.store.blobs._crypto import blob_context, read_header


@pytest.fixture
def kms(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A KMS client of the moto server; boto3's credential chain reads the test's keys."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_CREDENTIALS["aws_secret_access_key"])
    return boto3.client("kms", endpoint_url=s3_endpoint, region_name="us-east-1")


def _store(tmp_path: Path, endpoint: str, key_id: str, **extra: Any) -> BlobStore:
    options = {
        "provider": "aws-kms",
        "keys": str(tmp_path / "keys"),
        "kek_id": key_id,
        "endpoint_url": endpoint,
        "region": "us-east-1",
    }
    return open_blob_store(str(tmp_path / "blobs"), encryption=options | extra)


def _header_of(tmp_path: Path, digest: str) -> Any:
    raw = (tmp_path / "blobs" / blob_key(digest)).read_bytes()
    source = io.BytesIO(raw)
    return read_header(source, source.read(13), digest)


def test_blobs_seal_under_a_kms_key_bound_to_their_identity(
    tmp_path: Path, s3_endpoint: str, kms: Any
) -> None:
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    store = _store(tmp_path, s3_endpoint, arn)
    data = b"otter-ledger " * 40_000
    digest = store.put_bytes(data)
    assert b"otter" not in (tmp_path / "blobs" / blob_key(digest)).read_bytes()
    assert store.get_bytes(digest) == data and store.key_id(digest) == arn

    # the wrapped data key opens only under this object's encryption context
    header = _header_of(tmp_path, digest)
    keys = store.envelope.keys  # type: ignore[union-attr]
    assert len(keys.decrypt(header.wrapped, blob_context(digest))) == 32
    other = "sha256:" + "0" * 64
    with pytest.raises(IntegrityError, match="altered or moved"):
        keys.decrypt(header.wrapped, blob_context(other))

    # an object moved under another digest does not open
    moved = tmp_path / "blobs" / blob_key(other)
    moved.parent.mkdir(parents=True)
    moved.write_bytes((tmp_path / "blobs" / blob_key(digest)).read_bytes())
    with pytest.raises(IntegrityError):
        store.get_bytes(other)


def test_rotation_rewraps_under_another_kms_key_and_resumes(
    tmp_path: Path, s3_endpoint: str, kms: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = kms.create_key()["KeyMetadata"]["Arn"]
    second = kms.create_key()["KeyMetadata"]["Arn"]
    store = _store(tmp_path, s3_endpoint, first)
    blobs = {store.put_bytes(b"blob %d " % n * 1000): b"blob %d " % n * 1000 for n in range(6)}

    # the object store fails on the fourth object: the rotation stops half-way
    real, calls = BlobStore.rewrap, []

    def failing(self: BlobStore, digest: str, new_key_id: str) -> str | None:
        calls.append(digest)
        if len(calls) == 4:
            raise StorageError("the object store went away")
        return real(self, digest, new_key_id)

    monkeypatch.setattr(BlobStore, "rewrap", failing)
    with pytest.raises(StorageError):
        rotate_kek(store, to_key=second)
    monkeypatch.setattr(BlobStore, "rewrap", real)
    under = sorted(str(store.key_id(d)) for d in blobs)
    assert under.count(second) == 3 and under.count(first) == 3
    assert all(store.get_bytes(d) == data for d, data in blobs.items())
    with pytest.raises(InvalidInput, match="interrupted"):
        rotate_kek(store, to_key=first)

    fresh = _store(tmp_path, s3_endpoint, first)  # a new process, same home
    report = rotate_kek(fresh)
    assert report.resumed and report.key_id == second
    assert report.rewrapped == 3 and report.previous == {first: 3}
    assert report.in_use == {second: 6}
    assert all(fresh.get_bytes(d) == data for d, data in blobs.items())
    assert fresh.envelope.keys.current_key_id() == second  # type: ignore[union-attr]
    assert fresh.envelope.keys.key_ids() == sorted([first, second])  # type: ignore[union-attr]
    new = fresh.put_bytes(b"written after the rotation")
    assert fresh.key_id(new) == second
    with pytest.raises(InvalidInput, match="ScheduleKeyDeletion"):
        rotate_kek(fresh, remove_old=True)


def test_an_unknown_kms_key_is_a_clear_error(tmp_path: Path, s3_endpoint: str, kms: Any) -> None:
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    store = _store(tmp_path, s3_endpoint, missing)
    with pytest.raises(NotFound, match="KMS key"):
        store.put_bytes(b"no key to seal it under")
    assert list(store.digests()) == []
    with pytest.raises(InvalidInput) as bad:
        _store(tmp_path, s3_endpoint, "not a key id!")
    assert bad.value.field == "kek_id"


def test_settings_take_a_kms_key_and_its_endpoint(tmp_path: Path) -> None:
    from shipyard.config import load_settings

    environ = {
        "SHIPYARD_HOME": str(tmp_path),
        "SHIPYARD_KEK_PROVIDER": "aws-kms",
        "SHIPYARD_KEK_ID": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "SHIPYARD_KMS_ENDPOINT_URL": "http://127.0.0.1:1",
    }
    options = load_settings(environ).blob_encryption
    assert options["provider"] == "aws-kms" and options["endpoint_url"] == "http://127.0.0.1:1"
    with pytest.raises(InvalidInput) as missing:
        load_settings({k: v for k, v in environ.items() if k != "SHIPYARD_KEK_ID"})
    assert missing.value.field == "kek_id"
    json.dumps(options)  # handed to worker processes as JSON
