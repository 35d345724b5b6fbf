"""Storing a saved model into a run, in the one layout the registry reads back."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shipyard.flavors import SavedModel
from shipyard.platform import Platform
from shipyard.tracking import ArtifactInfo, store_artifact


def store_saved_model(
    platform: Platform, session: Session, run_id: str, saved: SavedModel
) -> dict[str, ArtifactInfo]:
    """Put every file of ``saved`` in the run (``model/meta.json`` last), by path.

    The job worker calls this after training; ``log_model`` uploads the same files
    through the artifact operation.
    """
    return {
        path: store_artifact(platform, session, run_id, path, data)
        for path, data in saved.artifacts()
    }
