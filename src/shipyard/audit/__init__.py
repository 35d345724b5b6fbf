"""The audit log's hash chain and signed checkpoints, checked without a database.

Pure functions over wire types (no SQLAlchemy): the server seals and verifies with them, and
``shipyard audit verify --from DIR`` checks an export with nothing but this package.
"""

from shipyard.audit._chain import (
    GENESIS,
    ChainVerifier,
    canonical_time,
    checkpoint_message,
    event_hash,
    key_id,
)
from shipyard.audit._export import read_public_key, verify_export, write_export_page

__all__ = [
    "GENESIS",
    "ChainVerifier",
    "canonical_time",
    "checkpoint_message",
    "event_hash",
    "key_id",
    "read_public_key",
    "verify_export",
    "write_export_page",
]
