"""The handle every service call works through: settings, metadata database, blob store."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.config import Settings
from shipyard.store import process_scratch, sweep_scratch
from shipyard.store.blobs import BlobStore, open_blob_store
from shipyard.store.metadata import Database


@dataclass
class Platform:
    """One Shipyard installation as seen from this process."""

    settings: Settings
    db: Database
    blobs: BlobStore

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Platform:
        """Connect to the configured stores, creating and migrating them when needed.

        Scratch files that processes which died left under ``<home>/tmp`` are removed here,
        and this process takes its own scratch directory there.
        """
        settings.home.mkdir(parents=True, exist_ok=True)
        sweep_scratch(settings.home / "tmp")
        process_scratch(settings.home / "tmp")
        db = Database(settings.metadata_url)
        if migrate:
            db.upgrade()
        blobs = open_blob_store(
            settings.blobs_url,
            storage_options=settings.blob_storage_options,
            encryption=settings.blob_encryption,
        )
        return cls(settings=settings, db=db, blobs=blobs)

    def close(self) -> None:
        self.db.dispose()
