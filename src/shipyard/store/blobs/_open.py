"""Open a blob store from a URL: a local path, ``file:///path`` or ``s3://bucket/prefix``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from shipyard.errors import InvalidInput
from shipyard.store.blobs._aws_kms import AwsKmsKeyProvider
from shipyard.store.blobs._base import BlobStore
from shipyard.store.blobs._crypto import Envelope
from shipyard.store.blobs._fsspec import FsspecBlobStore
from shipyard.store.blobs._kms import KeyProvider, LocalKeyProvider
from shipyard.store.blobs._local import LocalBlobStore


def open_blob_store(
    url: str,
    *,
    storage_options: dict[str, Any] | None = None,
    encryption: Mapping[str, Any] | None = None,
) -> BlobStore:
    """The blob store at ``url``; ``storage_options`` go to the S3 filesystem (s3fs).

    ``encryption`` (``Settings.blob_encryption``) gives it keys: ``provider`` (``local`` or
    ``aws-kms``), ``keys`` (the provider's directory), ``kek_id`` (pinned, or None; for
    aws-kms the KMS key), ``endpoint_url`` and ``region`` (aws-kms) and ``seal_writes``.
    Without it the store writes plaintext and cannot open encrypted objects.
    """
    store = _open(url, storage_options)
    if encryption is not None:
        store.envelope = _envelope(encryption)
    return store


def _envelope(options: Mapping[str, Any]) -> Envelope:
    provider = options.get("provider", "local")
    keys: KeyProvider
    if provider == "local":
        keys = LocalKeyProvider(Path(options["keys"]), pinned_key_id=options.get("kek_id"))
    elif provider == "aws-kms":
        keys = AwsKmsKeyProvider.connect(
            options.get("kek_id"),
            Path(options["keys"]),
            endpoint_url=options.get("endpoint_url"),
            region=options.get("region"),
        )
    else:
        raise InvalidInput(f"unknown key provider {provider!r}", field="kek_provider")
    return Envelope(keys, seal_writes=bool(options.get("seal_writes", True)))


def _open(url: str, storage_options: dict[str, Any] | None) -> BlobStore:
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        if storage_options:
            raise InvalidInput(
                "a local blob store takes no storage options", field="storage_options"
            )
        if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
            raise InvalidInput(f"file URL must name a local path, got {url!r}", field="blob_url")
        return LocalBlobStore(unquote(parts.path) if parts.scheme else url)
    if parts.scheme == "s3":
        return _open_s3(url, parts.netloc, parts.path, dict(storage_options or {}))
    raise InvalidInput(
        f"unsupported scheme {parts.scheme!r} in {url!r}; use a path or s3://", field="blob_url"
    )


def _open_s3(url: str, bucket: str, prefix: str, options: dict[str, Any]) -> BlobStore:
    if not bucket:
        raise InvalidInput(f"S3 URL must name a bucket, got {url!r}", field="blob_url")
    try:
        import s3fs
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
    except ImportError as exc:
        raise InvalidInput(
            "s3:// blob stores need the 's3' extra: pip install 'shipyard[s3]'", field="blob_url"
        ) from exc
    options.setdefault("use_listings_cache", False)
    fs = s3fs.S3FileSystem(**options)
    root = f"{bucket}/{prefix.strip('/')}".rstrip("/")
    return FsspecBlobStore(
        fs, root, url=f"s3://{root}", backend_errors=(BotoCoreError, ClientError)
    )
