"""The Shipyard SDK.

Importing it loads the HTTP side only (httpx and the operation catalog); each group of
methods loads with its first use, and ``LocalTransport`` (with it the platform) only when a
client works in-process.
"""

import importlib
from typing import TYPE_CHECKING, Any

from shipyard.client._client import Client
from shipyard.client._transport import HttpTransport, Transport

if TYPE_CHECKING:
    from shipyard.client._local import LocalTransport
    from shipyard.client._log_model import LoggedModel
    from shipyard.client._paging import Listing, iterate
    from shipyard.client._tracking import ActiveRun

_LAZY = {
    "ActiveRun": "shipyard.client._tracking",
    "Listing": "shipyard.client._paging",
    "LocalTransport": "shipyard.client._local",
    "LoggedModel": "shipyard.client._log_model",
    "iterate": "shipyard.client._paging",
}

__all__ = [
    "ActiveRun",
    "Client",
    "HttpTransport",
    "Listing",
    "LocalTransport",
    "LoggedModel",
    "Transport",
    "iterate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'shipyard.client' has no attribute {name!r}")
