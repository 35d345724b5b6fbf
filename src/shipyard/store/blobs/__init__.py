"""Content-addressed blob storage on a local disk or S3; every read is verified, and new
blobs are sealed with envelope encryption when the store has keys."""

from shipyard.store.blobs._base import BlobStore, blob_key, compute_digest, validate_digest
from shipyard.store.blobs._crypto import Envelope
from shipyard.store.blobs._fsspec import FsspecBlobStore
from shipyard.store.blobs._kms import KeyProvider, LocalKeyProvider, WrappedKey
from shipyard.store.blobs._local import LocalBlobStore
from shipyard.store.blobs._open import open_blob_store
from shipyard.store.blobs._rotate import RotationReport, rotate_kek

__all__ = [
    "BlobStore",
    "Envelope",
    "FsspecBlobStore",
    "KeyProvider",
    "LocalBlobStore",
    "LocalKeyProvider",
    "RotationReport",
    "WrappedKey",
    "blob_key",
    "compute_digest",
    "open_blob_store",
    "rotate_kek",
    "validate_digest",
]
