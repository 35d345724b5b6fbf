"""TLS for Shipyard's servers: the uvicorn options, TLS 1.2 at least, client certificates
asked for when a client CA is set, and the peer certificate handed to the app.

uvicorn terminates TLS but gives the app nothing of the client certificate. Its
protocol object sees the transport, whose ``get_extra_info("ssl_object")`` does, so the
protocol classes here fill the ASGI ``tls`` extension from it once per connection
(asyncio calls ``connection_made`` after the handshake).
"""

from __future__ import annotations

import importlib.util
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from shipyard.errors import InvalidInput
from shipyard.tls._peer import tls_extension

if TYPE_CHECKING:
    import asyncio

    import uvicorn

    from shipyard.config import Settings

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is an optional speed-up
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class ServerTLS:
    """A server's certificate and key, and the CA its clients' certificates must chain to."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        cert: Path | None = None,
        key: Path | None = None,
        client_ca: Path | None = None,
        require: bool = False,
    ) -> ServerTLS | None:
        """The TLS to serve with (options over settings), checked now; None for plain HTTP.

        Refused: a certificate without its key or the other way round, files that do not
        load, a client CA without TLS, and no TLS at all when TLS is required.
        """
        cert = cert or settings.tls_cert
        key = key or settings.tls_key
        client_ca = client_ca or settings.tls_client_ca
        if cert is None and key is None:
            if client_ca is not None:
                raise InvalidInput(
                    "a client CA needs TLS: give --tls-cert and --tls-key", field="tls_client_ca"
                )
            if require or settings.require_tls:
                raise InvalidInput(
                    "TLS is required (--require-tls) but no certificate is set: "
                    "give --tls-cert and --tls-key",
                    field="tls_cert",
                )
            return None
        if cert is None or key is None:
            missing = "tls_cert" if cert is None else "tls_key"
            raise InvalidInput("give both --tls-cert and --tls-key", field=missing)
        tls = cls(cert, key, client_ca)
        tls.context()
        return tls

    def context(self) -> ssl.SSLContext:
        """The server's SSL context, or InvalidInput naming the file that does not load."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidInput(
                f"cannot load the certificate {self.cert} with key {self.key}: {_reason(exc)}",
                field="tls_cert",
            ) from None
        if self.client_ca is not None:
            try:
                context.load_verify_locations(self.client_ca)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidInput(
                    f"cannot load the client CA {self.client_ca}: {_reason(exc)}",
                    field="tls_client_ca",
                ) from None
            context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def uvicorn_options(self) -> dict[str, Any]:
        """``uvicorn.Config`` keyword arguments: the files, client certificates asked for
        (optional: API keys keep working; a certificate given must verify), TLS >= 1.2,
        and the protocol that hands the peer certificate to the app."""
        return {
            "ssl_certfile": str(self.cert),
            "ssl_keyfile": str(self.key),
            "ssl_ca_certs": str(self.client_ca) if self.client_ca else None,
            "ssl_cert_reqs": ssl.CERT_OPTIONAL if self.client_ca else ssl.CERT_NONE,
            "ssl_context_factory": _tls12_context,
            "http": tls_protocol_class(),
        }


def _reason(exc: BaseException) -> str:
    return getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)


def _tls12_context(config: uvicorn.Config, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's context from its ``ssl_*`` options, refusing anything older than TLS 1.2.

    Module-level, so a config holding it pickles to the worker processes of ``serve``.
    """
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _WithTLS:
    """The app, with the connection's ``tls`` extension put in each request's scope."""

    __slots__ = ("app", "tls")

    def __init__(self, app: Any, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("extensions", {})["tls"] = self.tls
        await self.app(scope, receive, send)


class TLSH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, filling the ASGI ``tls`` extension."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        tls = tls_extension(transport.get_extra_info("ssl_object"))
        if tls is not None:
            self.app = _WithTLS(self.app, tls)


if HttpToolsProtocol is not None:

    class TLSHttpToolsProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, filling the ASGI ``tls`` extension (no extra call
        per request: the extension goes into the scope as the request begins)."""

        _tls: dict[str, Any] | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._tls = tls_extension(transport.get_extra_info("ssl_object"))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._tls is not None:
                extensions: dict[str, Any] = {"tls": self._tls}
                self.scope["extensions"] = extensions


def tls_protocol_class() -> type[asyncio.Protocol]:
    """The fastest HTTP/1.1 protocol installed, with the ``tls`` extension."""
    if HttpToolsProtocol is not None and importlib.util.find_spec("httptools"):
        return TLSHttpToolsProtocol
    return TLSH11Protocol
