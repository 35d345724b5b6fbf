"""``shipyard certs``: ``dev`` makes a local CA with a server certificate, or client
certificates, for trying TLS and mutual TLS on one machine; ``revoke`` and ``revoked``
revoke client certificates one by one and list them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipyard.cli._context import STATE, JsonOption
from shipyard.cli._output import console, emit, table
from shipyard.errors import InvalidInput

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


@app.command("revoke")
def revoke(
    reason: Annotated[str, typer.Option(help="Why (kept with the revocation and audited).")],
    serial: Annotated[
        str | None, typer.Option(help="The certificate's serial number (hex).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The certificate (PEM) to revoke.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke one client certificate: both servers refuse it from now on (401), whatever
    its expiry. Name it by --serial or by its --file."""
    principal = None
    if (serial is None) == (file is None):
        raise InvalidInput("give exactly one of --serial and --file", field="serial")
    if file is not None:
        serial, principal = _read_certificate(file)
    assert serial is not None
    info = STATE.client().iam.revoke_certificate(serial, reason, principal=principal)
    emit(info, as_json, lambda: _say(f"revoked certificate {info.serial}: {info.reason}"))


@app.command("revoked")
def revoked(as_json: JsonOption = False) -> None:
    """Every revoked client certificate, the latest first."""
    items = STATE.client().iam.revoked_certificates()
    emit(
        items,
        as_json,
        lambda: table(
            "Revoked certificates",
            ["serial", "principal", "reason", "revoked by", "revoked at"],
            [(i.serial, i.principal or "", i.reason, i.revoked_by, i.revoked_at) for i in items],
        ),
    )


def _read_certificate(path: Path) -> tuple[str, str | None]:
    """The serial number (hex) of the PEM certificate at ``path`` and the principal its SAN
    URI names, if any."""
    from cryptography import x509

    from shipyard.tls import PRINCIPAL_URI_PREFIX

    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", field="file") from None
    except ValueError:
        raise InvalidInput(f"{path} is not a PEM certificate", field="file") from None
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    named = [
        u.removeprefix(PRINCIPAL_URI_PREFIX) for u in uris if u.startswith(PRINCIPAL_URI_PREFIX)
    ]
    return format(certificate.serial_number, "x"), named[0] if len(named) == 1 else None
