"""``shipyard init|server|serve``: set up a home, run the control plane, serve an endpoint.

The server side (the platform, the apps, uvicorn) is imported by the command that runs it,
so the rest of the CLI starts without it.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipyard.cli._context import STATE
from shipyard.cli._output import console, errors
from shipyard.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    import uvicorn

    from shipyard.platform import Platform
    from shipyard.tls._server import ServerTLS

HostOption = Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1).")]
AllowRemote = Annotated[
    bool,
    typer.Option(
        "--allow-remote-unsafe",
        help="Bind a non-loopback address. Only behind TLS and a firewall you trust.",
    ),
]

TLSCert = Annotated[
    Path | None,
    typer.Option(help="Serve HTTPS with this certificate (PEM; or SHIPYARD_TLS_CERT)."),
]
TLSKey = Annotated[
    Path | None, typer.Option(help="The certificate's private key (or SHIPYARD_TLS_KEY).")
]
TLSClientCA = Annotated[
    Path | None,
    typer.Option(
        help="Ask clients for a certificate chaining to this CA; one naming "
        "sy:principal/NAME authenticates as that service principal."
    ),
]
RequireTLS = Annotated[
    bool, typer.Option("--require-tls", help="Refuse to start without a TLS certificate.")
]


def server_tls(
    cert: Path | None, key: Path | None, client_ca: Path | None, require: bool
) -> ServerTLS | None:
    """The TLS a server command runs with: its options over the settings, checked now."""
    from shipyard.tls._server import ServerTLS

    return ServerTLS.from_settings(
        STATE.settings, cert=cert, key=key, client_ca=client_ca, require=require
    )


def open_platform() -> Platform:
    from shipyard.platform import Platform
    from shipyard.security import bootstrap

    platform = Platform.open(STATE.settings)
    bootstrap(platform)
    return platform


def init() -> None:
    """Create the Shipyard home and the bootstrap admin, and print the admin's API key once."""
    from shipyard.security import issue_admin_key_if_none

    platform = open_platform()
    key = issue_admin_key_if_none(platform)
    console.print(f"Shipyard home: {platform.settings.home}")
    console.print(f"metadata: {platform.db.engine.url.render_as_string(hide_password=True)}")
    console.print(f"blobs: {platform.blobs.url}")
    if key is None:
        console.print("admin already has an API key; `shipyard keys create admin` issues another")
    else:
        console.print("admin API key (shown once, store it now):", style="bold")
        console.print(key.token, highlight=False, soft_wrap=True)


def check_bind(host: str, port: int, allow_remote: bool) -> None:
    """Refuse a non-loopback bind without the loud flag, and a port already in use."""
    from shipyard.serving import is_loopback

    if not is_loopback(host):
        if not allow_remote:
            raise InvalidInput(
                f"refusing to listen on {host}, which other machines can reach; "
                "pass --allow-remote-unsafe to do it on purpose",
                field="host",
            )
        errors.print(
            f"WARNING: listening on {host}: reachable from other machines", style="bold red"
        )
    if port == 0:
        return
    import socket

    # SO_REUSEADDR, as uvicorn binds: a port whose last server was just killed (its
    # connections in TIME_WAIT) is free to listen on again; one a process listens on is not.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        if os.name != "nt":  # on Windows the flag would let two servers share the port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise Conflict(f"port {port} on {host} is already in use", field="port") from None
            raise InvalidInput(
                f"cannot listen on {host}:{port}: {exc.strerror}", field="host"
            ) from None


def uvicorn_server(app: Any, host: str, port: int, tls: ServerTLS | None = None) -> uvicorn.Server:
    """A server on the fastest stack available (httptools, uvloop), no proxy-header rewriting;
    HTTPS only with ``tls``."""
    import uvicorn

    from shipyard.serving import ServingApp, uvicorn_config

    if isinstance(app, ServingApp):
        config = uvicorn_config(
            app, host=host, port=port, allow_remote=True, log_level="warning", tls=tls
        )
    else:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            access_log=False,
            log_level="warning",
            lifespan="on",
            server_header=False,
            proxy_headers=False,
            **(tls.uvicorn_options() if tls is not None else {}),
        )
    return uvicorn.Server(config)


def run_servers(servers: list[uvicorn.Server]) -> None:
    """Run several uvicorn servers in this process until interrupted (on uvloop if installed)."""
    import asyncio

    async def main() -> None:
        await asyncio.gather(*(s.serve() for s in servers))

    try:
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())


def start_in_thread(server: uvicorn.Server) -> threading.Thread:
    """Start a server in a daemon thread and wait until it listens."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise Conflict("server failed to start")
        threading.Event().wait(0.02)
    return thread


def bound_port(server: uvicorn.Server) -> int:
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def server(
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    allow_remote: AllowRemote = False,
    tls_cert: TLSCert = None,
    tls_key: TLSKey = None,
    tls_client_ca: TLSClientCA = None,
    require_tls: RequireTLS = False,
) -> None:
    """Run the REST control plane (OpenAPI at /api/v1/openapi.json)."""
    from shipyard.api import create_app
    from shipyard.jobs._host import warm_up
    from shipyard.logs import configure_logging

    settings = STATE.settings
    host, port = host or settings.host, settings.port if port is None else port
    tls = server_tls(tls_cert, tls_key, tls_client_ca, require_tls)
    check_bind(host, port, allow_remote)
    platform = open_platform()
    if settings.job_start == "warm":  # jobs submitted to this server fork from a warm host
        threading.Thread(target=warm_up, name="job-host", daemon=True).start()
    scheme = "https" if tls else "http"
    console.print(f"Shipyard control plane on {scheme}://{host}:{port}/api/v1 (Ctrl+C stops)")
    control_plane = uvicorn_server(create_app(platform), host, port, tls)
    configure_logging(settings, "server")  # after uvicorn has configured its loggers
    sealer = None
    if settings.audit_seal_seconds > 0:  # chains new audit events, signs checkpoints
        from shipyard.security import AuditSealer

        sealer = AuditSealer(platform, settings.audit_seal_seconds).start()
    scheduler = None
    if settings.scheduler_in_server:  # monitors, alarms, pipeline schedules
        from shipyard.scheduling import Scheduler

        scheduler = Scheduler(platform).start()
    try:
        run_servers([control_plane])
    finally:
        if scheduler is not None:
            scheduler.stop()
        if sealer is not None:
            sealer.stop()


def serve(
    endpoint: Annotated[str, typer.Argument(help="Endpoint name.")],
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Worker processes on the one port (default one per CPU core)."),
    ] = None,
    allow_remote: AllowRemote = False,
    tls_cert: TLSCert = None,
    tls_key: TLSKey = None,
    tls_client_ca: TLSClientCA = None,
    require_tls: RequireTLS = False,
) -> None:
    """Serve an endpoint: /invocations, /v2 (Open Inference Protocol), /feedback, /metrics.

    Variants, weights, capture and batching follow the endpoint live.
    """
    from shipyard.endpoints import serve_supervised

    settings = STATE.settings
    host, port = host or settings.host, settings.serving_port if port is None else port
    count = workers if workers is not None else os.cpu_count() or 1
    if count < 1:
        raise InvalidInput("must be at least 1", field="workers")
    tls = server_tls(tls_cert, tls_key, tls_client_ca, require_tls)
    check_bind(host, port, allow_remote)
    platform = open_platform()
    url = f"{'https' if tls else 'http'}://{host}:{port}"

    def announce() -> None:
        plural = "worker" if count == 1 else "workers"
        console.print(
            f"serving endpoint {endpoint} on {url}/invocations with {count} {plural} (Ctrl+C stops)"
        )

    try:  # the workers hold no store, key or credential: this process answers them
        serve_supervised(
            platform,
            endpoint,
            host=host,
            port=port,
            workers=count,
            url=url,
            tls=tls,
            on_ready=announce,
        )
    finally:
        platform.close()
