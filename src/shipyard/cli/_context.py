"""The CLI's shared state: settings read once, and the client built from them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shipyard.client import Client
    from shipyard.config import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@dataclass
class CliState:
    url: str | None = None
    api_key: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from shipyard.config import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def server_url(self) -> str | None:
        """The server URL given by ``--url`` or the settings, without reading them again."""
        return self.url or (self._settings.url if self._settings else None)

    def client(self) -> Client:
        """The SDK client: remote when a URL is configured, else in-process."""
        if self._client is None:
            if "httpx" not in sys.modules:
                # httpx loads its own command line (click, pygments) when it can; no command
                # here runs it, and a missing module is the switch httpx itself offers
                sys.modules["httpx._main"] = None  # type: ignore[assignment]
            from shipyard.client import Client  # the platform too, only without a URL

            url = self.url or self.settings.url
            key = self.api_key or (
                self.settings.api_key.get_secret_value() if self.settings.api_key else None
            )
            self._client = Client(url, api_key=key) if url else Client(settings=self.settings)
        return self._client


STATE = CliState()
