"""What a TLS connection tells the app: the ASGI ``tls`` extension and the client's principal.

The ASGI TLS extension (asgiref's spec, ``scope["extensions"]["tls"]``) carries the
verified client certificate; uvicorn does not fill it, so ``shipyard.tls._protocol``
does, once per connection. Shipyard adds one key of its own, ``client_principal``: the
principal a verified client certificate names by its SAN URI ``sy:principal/NAME``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

PRINCIPAL_URI_PREFIX = "sy:principal/"
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    """The ``tls`` extension of one connection, or None when it is not TLS.

    ``getpeercert()`` answers only for a certificate the handshake verified against
    the client CA, so an unverified certificate never names a principal.
    """
    if ssl_object is None:
        return None
    peer = ssl_object.getpeercert() or {}
    der = ssl_object.getpeercert(binary_form=True) if peer else None
    cipher = ssl_object.cipher()
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": _rfc4514(peer.get("subject", ())) if peer else None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None if cipher is None else cipher[0],
        "client_principal": principal_of(peer),
        "client_serial": serial_of(peer),
    }


def serial_of(peer: Mapping[str, Any]) -> str | None:
    """A verified certificate's serial number, lowercase hex without leading zeros."""
    serial = peer.get("serialNumber")
    return (str(serial).lower().lstrip("0") or "0") if serial else None


def principal_of(peer: Mapping[str, Any]) -> str | None:
    """The principal named by a verified certificate's SAN URI ``sy:principal/NAME``.

    Exactly one such URI; none or several (ambiguous) name nobody.
    """
    named = [
        value[len(PRINCIPAL_URI_PREFIX) :]
        for kind, value in peer.get("subjectAltName", ())
        if kind == "URI" and value.startswith(PRINCIPAL_URI_PREFIX)
    ]
    return named[0] if len(named) == 1 and named[0] else None


def _rfc4514(subject: Any) -> str:
    short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}
    parts = [f"{short.get(key, key)}={value}" for rdn in subject for key, value in rdn]
    return ",".join(reversed(parts))


def scope_principal(scope: Mapping[str, Any]) -> str | None:
    """The principal a request's verified client certificate names, if any."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    return tls.get("client_principal") if tls else None


def scope_serial(scope: Mapping[str, Any]) -> str | None:
    """The serial number of a request's verified client certificate, if any."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    return tls.get("client_serial") if tls else None


def has_client_certificate(scope: Mapping[str, Any]) -> bool:
    """Whether the request came with a verified client certificate."""
    extensions = scope.get("extensions")
    tls = extensions.get("tls") if extensions else None
    return bool(tls and tls["client_cert_chain"])
