"""Choose the online store from settings: SQLite under home by default, Redis by URL."""

from __future__ import annotations

from pathlib import Path

from shipyard.config import Settings
from shipyard.errors import InvalidInput
from shipyard.features.online._base import OnlineStore
from shipyard.features.online._redis import RedisOnlineStore
from shipyard.features.online._sqlite import SqliteOnlineStore

DEFAULT_FILE = "online_store.db"


def online_store_url(settings: Settings) -> str:
    """The configured online store URL, or the default SQLite file under home."""
    return settings.online_store_url or f"sqlite:///{settings.home / DEFAULT_FILE}"


def open_online_store(url: str) -> OnlineStore:
    """The store at ``url``: ``sqlite:///path``, ``redis://``, ``rediss://`` or ``unix://``."""
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
        if not path:
            raise InvalidInput("a sqlite URL needs a file path", field="online_store_url")
        return SqliteOnlineStore(Path(path))
    if scheme in ("redis", "rediss", "unix"):
        return RedisOnlineStore(url)
    raise InvalidInput(
        f"unsupported online store URL scheme {scheme!r} (use sqlite:///path or redis://)",
        field="online_store_url",
    )
