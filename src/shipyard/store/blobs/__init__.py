"""Content-addressed blob storage on a local disk or S3; every read is verified."""

from shipyard.store.blobs._base import BlobStore, blob_key, compute_digest, validate_digest
from shipyard.store.blobs._fsspec import FsspecBlobStore
from shipyard.store.blobs._local import LocalBlobStore
from shipyard.store.blobs._open import open_blob_store

__all__ = [
    "BlobStore",
    "FsspecBlobStore",
    "LocalBlobStore",
    "blob_key",
    "compute_digest",
    "open_blob_store",
    "validate_digest",
]
