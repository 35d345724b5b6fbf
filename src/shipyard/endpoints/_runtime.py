"""Building an endpoint's serving app: resolve its model version, load it once, cache keys."""

from __future__ import annotations

from shipyard.endpoints._service import find_endpoint
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.security import CachedKeyAuthorizer
from shipyard.serving import ServingApp, ServingSettings, create_serving_app
from shipyard.store.metadata import tables as t


def build_serving_app(platform: Platform, endpoint: str) -> ServingApp:
    """The data-plane app of one endpoint; the database is read here, never per request."""
    with platform.db.session() as session:
        row = find_endpoint(session, endpoint)
        version = session.get(t.ModelVersion, row.model_version_id)
        assert version is not None
        model = session.get(t.Model, version.model_id)
        assert model is not None
        model_name, model_version = model.name, version.version
    predictor = load_version_predictor(platform, version)
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=platform.settings.key_cache_seconds)
    authorizer.start()
    return create_serving_app(
        endpoint,
        model_name,
        model_version,
        predictor,
        authorizer,
        ServingSettings(max_body_bytes=platform.settings.max_body_bytes),
    )
