"""Run a serving app under uvicorn: loopback by default, the fastest HTTP stack available."""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from shipyard.errors import InvalidInput
from shipyard.serving._app import ServingApp

if TYPE_CHECKING:
    from shipyard.tls._server import ServerTLS

AppFactory = Callable[[], ServingApp]
logger = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def uvicorn_config(
    app: ServingApp | AppFactory,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    allow_remote: bool = False,
    log_level: str = "info",
    tls: ServerTLS | None = None,
) -> uvicorn.Config:
    """The uvicorn configuration ``serve`` uses, after checking the bind address and workers.

    With ``tls`` it listens for HTTPS only (TLS 1.2 or later), asking for client
    certificates when ``tls`` has a client CA.
    """
    if not allow_remote and not is_loopback(host):
        raise InvalidInput(
            f"refusing to listen on {host!r}, which is reachable from other machines; "
            "pass allow_remote=True to do it on purpose",
            field="host",
        )
    if not is_loopback(host):
        logger.warning("serving on %s: reachable from other machines; put TLS in front of it", host)
    if workers < 1:
        raise InvalidInput("must be at least 1", field="workers")
    if workers > 1 and isinstance(app, ServingApp):
        raise InvalidInput(
            "several workers need a picklable app factory, not a built app", field="workers"
        )
    has = importlib.util.find_spec
    options: dict[str, Any] = {"http": "httptools" if has("httptools") else "h11"}
    if tls is not None:
        options |= tls.uvicorn_options()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        workers=workers,
        factory=not isinstance(app, ServingApp),
        loop="uvloop" if has("uvloop") else "asyncio",
        lifespan="on",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level=log_level,
        **options,
    )


def serve(
    app: ServingApp | AppFactory,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    *,
    allow_remote: bool = False,
    log_level: str = "info",
    tls: ServerTLS | None = None,
    processes: bool = False,
) -> None:
    """Serve until interrupted; with ``workers > 1`` (or ``processes``, which puts even one
    worker in a process of its own) pass a factory each worker process calls.

    The workers share one listening socket (uvicorn's supervisor binds it and each worker
    accepts on it), so TLS ends in the worker that answers: there is no hop between
    processes to secure.
    """
    config = uvicorn_config(
        app,
        host=host,
        port=port,
        workers=workers,
        allow_remote=allow_remote,
        log_level=log_level,
        tls=tls,
    )
    if workers == 1 and not processes:
        uvicorn.Server(config).run()
        return
    socket = config.bind_socket()
    try:
        Multiprocess(config, sockets=[socket]).run()
    finally:
        socket.close()
