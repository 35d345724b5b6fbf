"""``shipyard certs dev``: a local CA with a server certificate, or client certificates, for
trying TLS and mutual TLS on one machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import STATE
from shipyard.cli._output import console

app = typer.Typer(help="Certificates for TLS.", no_args_is_help=True)


def _say(text: str) -> None:
    """One line as it is: paths are never wrapped or coloured."""
    console.print(text, highlight=False, soft_wrap=True)


@app.command("dev")
def dev(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where the files go (default <home>/tls)."),
    ] = None,
    hosts: Annotated[
        str, typer.Option(help="Host names and addresses the server certificate is for.")
    ] = "localhost,127.0.0.1,::1",
    client: Annotated[
        str | None,
        typer.Option(
            help="Instead: a client certificate for this service principal, "
            "signed by the CA already in --dir."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing CA.")] = False,
) -> None:
    """Make a development CA and a server certificate (or, with --client, a client one)."""
    from shipyard.tls._dev import (
        CA_CERT,
        make_ca,
        make_client_cert,
        make_server_cert,
        parse_hosts,
    )

    where = directory or STATE.settings.home / "tls"
    ca_file = where / CA_CERT
    if client is not None:
        pair = make_client_cert(where, client)
        _say(f"client certificate for {client}: {pair.cert}")
        _say(f"its key (mode 0600): {pair.key}")
        _say("Use it (the principal must exist and be a service principal):")
        _say(f"  shipyard principals create {client} --kind service")
        _say(
            f"  shipyard --url https://127.0.0.1:8000 --ca-bundle {ca_file} "
            f"--client-cert {pair.cert} --client-key {pair.key} principals list"
        )
        return
    names = parse_hosts(hosts)
    ca = make_ca(where, force=force)
    server = make_server_cert(where, names)
    _say(f"CA: {ca.cert} (its key, mode 0600: {ca.key})")
    _say(f"server certificate for {', '.join(names)}: {server.cert}")
    _say(f"its key (mode 0600): {server.key}")
    _say("Use them:")
    _say(
        f"  shipyard server --tls-cert {server.cert} --tls-key {server.key} "
        f"--tls-client-ca {ca.cert}"
    )
    _say(f"  shipyard --url https://127.0.0.1:8000 --ca-bundle {ca.cert} principals list")
    _say(f"  shipyard certs dev --dir {where} --client NAME   # a client certificate")
