"""Building an endpoint's serving app: variants loaded once, then kept in sync in the background."""

from __future__ import annotations

import logging
import os
import signal
import sys

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

logger = logging.getLogger(__name__)


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


class ServingWorkerFactory:
    """A picklable recipe for a worker that holds none of the platform: its supervisor does.

    The worker hides the home's database, keys, blobs and config from itself (a mount
    namespace of its own: ``shipyard.sandbox.hide_paths``), then talks only to the
    supervisor's socket; its settings come stripped of every store and credential.
    """

    def __init__(
        self,
        settings: Settings,
        endpoint: str,
        socket_path: str,
        *,
        url: str = "",
        workers: int = 1,
        cover: str | None = None,
        hide: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.socket_path = socket_path
        self.url = url
        self.workers = workers
        self.cover = cover
        self.hide = hide
        self.supervisor = os.getpid()

    def __call__(self) -> ServingApp:
        from shipyard.logs import configure_logging
        from shipyard.security import CachedKeyAuthorizer, RequestLimiter
        from shipyard.serving import (
            SocketKeySource,
            SocketLimitSource,
            SocketLink,
            SupervisorConnection,
        )

        _end_with(self.supervisor)
        configure_logging(self.settings, "serving", resource=f"sy:endpoint/{self.endpoint}")
        enrichers = EndpointEnrichers(online_store_url(self.settings))
        enrichers.open_local()  # before hiding: its SQLite file may lie in the home
        self._hide()
        connection = SupervisorConnection(self.socket_path)
        settings = ServingSettings(max_body_bytes=self.settings.max_body_bytes)
        link = SocketLink(connection, in_thread=settings.batch_in_thread, enrichers=enrichers)
        config = link.load(None)
        authorizer = CachedKeyAuthorizer(
            SocketKeySource(connection), refresh_seconds=self.settings.key_cache_seconds
        )
        authorizer.start()
        limiter = RequestLimiter(SocketLimitSource(connection), share=self.workers)
        return ServingApp(self.endpoint, config, authorizer, settings, link=link, limiter=limiter)

    def _hide(self) -> None:
        from shipyard.sandbox import SandboxError, hide_paths

        hidden, cover = set(self.hide), self.cover
        keep = [] if cover is None else [os.path.join(cover, name) for name in os.listdir(cover)]
        try:
            hide_paths(
                [p for p in self.hide if cover is None or os.path.dirname(p) != cover],
                cover=cover,
                keep=[p for p in keep if p not in hidden],
            )
        except (SandboxError, OSError) as error:
            logger.warning(
                "serving worker: could not hide the platform's files from itself (%s); "
                "it still holds no credentials",
                error,
            )


def _end_with(supervisor: int) -> None:
    """Linux: the kernel sends this worker SIGTERM when its supervisor dies, however it dies.

    Workers share the supervisor's listening socket, so a supervisor killed with SIGKILL
    would otherwise leave them answering on its port with a snapshot nobody refreshes.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    set_parent_death_signal = 1  # PR_SET_PDEATHSIG
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(set_parent_death_signal, signal.SIGTERM, 0, 0, 0) != 0:
        logger.warning("serving worker: cannot follow its supervisor's end (prctl failed)")
        return
    if os.getppid() != supervisor:  # it died before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)
