"""Feature-view resources as policies see them, and the datasets a view reads."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource
from shipyard.errors import ShipyardError
from shipyard.features._refs import parse_feature_refs
from shipyard.security import Access, ResourceName, latest_versioned
from shipyard.store.metadata import FEATURE_VIEWS
from shipyard.store.metadata import feature_tables as ft


def view_resource(session: Session, name: str, version: int | None = None) -> ResourceName:
    """``sy:feature-view/<name>/<version>`` (also ``sy:feature-view/<name>``), latest if None."""
    return latest_versioned(session, "feature-view", FEATURE_VIEWS, name, version)


def view_source_access(session: Session, name: str) -> list[Access]:
    """Reading the dataset version the latest version of view ``name`` is computed from."""
    spec = session.scalar(
        sa.select(ft.FeatureViewVersion.spec)
        .join(ft.FeatureView, ft.FeatureView.id == ft.FeatureViewVersion.view_id)
        .where(ft.FeatureView.name == name)
        .order_by(ft.FeatureViewVersion.version.desc())
        .limit(1)
    )
    if spec is None:
        return []
    return [
        Access("datasets:ReadData", dataset_ref_resource(session, spec["source"], field="source"))
    ]


def spec_source_access(session: Session, spec: object) -> list[Access]:
    """Reading the source dataset a view spec (a mapping, not yet validated) names."""
    source = spec.get("source") if isinstance(spec, dict) else None
    if not isinstance(source, str):
        return []  # the spec's own validation reports it
    try:
        named = dataset_ref_resource(session, source, field="spec.source")
    except ShipyardError:
        return []
    return [Access("datasets:ReadData", named)]


def views_of(features: Iterable[str]) -> list[str]:
    """The views named by ``view`` / ``view:feature`` references, in first-mention order."""
    return list(parse_feature_refs(list(features)))


def online_read_accesses(session: Session, views: Iterable[str]) -> list[Access]:
    """Reading each view's online values."""
    return [Access("features:GetOnlineFeatures", view_resource(session, v)) for v in views]
