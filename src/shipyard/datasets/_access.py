"""Dataset resources as policies see them: a version's name, with "latest" resolved first."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shipyard.names import parse_reference
from shipyard.security import ResourceName, latest_versioned
from shipyard.store.metadata import DATASETS


def dataset_resource(session: Session, name: str, version: int | None = None) -> ResourceName:
    """``sy:dataset/<name>/<version>`` (and ``sy:dataset/<name>``), the latest when no version.

    A dataset or version that does not exist is named without a version, so the check
    still runs (and refuses before the caller learns whether it exists).
    """
    return latest_versioned(session, "dataset", DATASETS, name, version)


def dataset_ref_resource(session: Session, ref: str, *, field: str) -> ResourceName:
    """The resource of a ``name`` or ``name@version`` reference (aliases name the dataset)."""
    parsed = parse_reference(ref, field=field)
    if parsed.alias is not None:
        return ResourceName.versioned("dataset", parsed.name, None)
    return dataset_resource(session, parsed.name, parsed.version)
