"""The CLI's shared state: settings read once, and the client built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from shipyard._connection import Connection
    from shipyard.client import Client
    from shipyard.config import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@dataclass
class CliState:
    url: str | None = None
    api_key: str | None = None
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from shipyard.config import load_settings

            self._settings = load_settings()
        return self._settings

    def connection(self) -> Connection:
        """How to reach a server: the settings if this command has read them, else only the
        connection fields of their sources (not the whole settings). Not kept: a test that
        runs several commands in one process resets the settings, and this follows them."""
        if self._settings is not None:
            return self._settings
        from shipyard._connection import load_connection

        return load_connection()

    @property
    def server_url(self) -> str | None:
        """The server URL given by ``--url`` or the settings, for messages about it."""
        return self.url or self.connection().url

    def client(self) -> Client:
        """The SDK client: remote when a URL is configured, else in-process."""
        if self._client is None:
            from shipyard.client import Client  # the platform too, only without a URL

            connection = self.connection()
            url = self.url or connection.url
            secret = connection.api_key
            key = self.api_key or (secret.get_secret_value() if secret else None)
            if url:
                self._client = Client(url, api_key=key, **self._tls(connection))
            else:
                self._client = Client(settings=self.settings)
        return self._client

    def _tls(self, settings: Connection) -> dict[str, Any]:
        """``ca_bundle`` and ``client_cert`` for the client: options over settings."""
        cert = self.client_cert or settings.client_cert
        key = self.client_key or settings.client_key
        if (cert is None) != (key is None):
            from shipyard.errors import InvalidInput

            raise InvalidInput(
                "give both --client-cert and --client-key",
                field="client_key" if key is None else "client_cert",
            )
        return {
            "ca_bundle": self.ca_bundle or settings.ca_bundle,
            "client_cert": (cert, key) if cert is not None and key is not None else None,
        }


STATE = CliState()
