"""Building an endpoint's serving app: variants loaded once, then kept in sync in the background."""

from __future__ import annotations

from shipyard.config import Settings
from shipyard.errors import InvalidInput, NotFound
from shipyard.features import EndpointEnrichers
from shipyard.features.online import online_store_url
from shipyard.flavors import Predictor
from shipyard.platform import Platform
from shipyard.registry import load_version_predictor
from shipyard.security import CachedKeyAuthorizer, RequestLimiter
from shipyard.serving import DatabaseLink, PredictorLoader, ServingApp, ServingSettings
from shipyard.store.metadata import tables as t


def _predictor_loader(platform: Platform) -> PredictorLoader:
    def load(model_version_id: int, runtime: str) -> Predictor:
        if runtime == "onnx":
            from shipyard.edge import latest_export, load_export_predictor

            with platform.db.session() as session:
                export = latest_export(session, model_version_id, "onnx")
            if export is None:
                raise NotFound(
                    f"model version {model_version_id} has no ONNX export", field="runtime"
                )
            return load_export_predictor(platform, export)
        if runtime != "native":
            raise InvalidInput(f"unknown runtime {runtime!r}", field="runtime")
        with platform.db.session() as session:
            version = session.get(t.ModelVersion, model_version_id)
            if version is None:
                raise NotFound(f"model version {model_version_id} does not exist", field="model")
        return load_version_predictor(platform, version)

    return load


def build_serving_app(
    platform: Platform,
    endpoint: str,
    *,
    url: str = "",
    settings: ServingSettings | None = None,
    worker: str | None = None,
    workers: int = 1,
) -> ServingApp:
    """The data-plane app of one endpoint; the database is read here and by its background thread.

    Raises when the endpoint is missing or a variant's model cannot load; once
    serving, a failed reload keeps the last good variants and is reported.
    """
    settings = settings or ServingSettings(max_body_bytes=platform.settings.max_body_bytes)
    link = DatabaseLink(
        platform,
        endpoint,
        _predictor_loader(platform),
        url=url,
        in_thread=settings.batch_in_thread,
        enrichers=EndpointEnrichers(online_store_url(platform.settings)),
    )
    config = link.load(None)
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=platform.settings.key_cache_seconds)
    authorizer.start()
    limiter = RequestLimiter(platform, share=workers)
    return ServingApp(
        endpoint, config, authorizer, settings, link=link, worker=worker, limiter=limiter
    )


class ServingAppFactory:
    """A picklable recipe each uvicorn worker process calls to build its own app."""

    def __init__(self, settings: Settings, endpoint: str, url: str = "", workers: int = 1) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.url = url
        self.workers = workers

    def __call__(self) -> ServingApp:
        from shipyard.logs import configure_logging

        configure_logging(self.settings, "serving", resource=f"sy:endpoint/{self.endpoint}")
        platform = Platform.open(self.settings, migrate=False)
        return build_serving_app(platform, self.endpoint, url=self.url, workers=self.workers)
