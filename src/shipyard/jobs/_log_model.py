"""``log_model`` of own-code training: a fitted model in its flavor's safe format, stored.

The job worker serializes the model as ``client.log_model`` does (``save_for_logging``:
every framework, the same layout) and puts the files in the blob store at once; the run
records them only when the job succeeds, so a stopped job registers no model.
"""

from __future__ import annotations

from typing import Any

from shipyard.flavors import save_for_logging
from shipyard.platform import Platform

StoredArtifacts = dict[str, tuple[str, int]]


def store_logged_model(platform: Platform, model: Any, **options: Any) -> StoredArtifacts:
    """Put the model's files in the blob store: run artifact path -> (digest, size).

    ``options`` are ``save_for_logging``'s (``input_example``, ``signature``, ``task``,
    ``target``, ``export`` ...).
    """
    saved = save_for_logging(model, **options)
    return {path: (platform.blobs.put_bytes(data), len(data)) for path, data in saved.artifacts()}
