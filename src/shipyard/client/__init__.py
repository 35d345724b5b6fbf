"""The Shipyard SDK.

Importing it loads the HTTP side only (httpx and the wire types); ``LocalTransport``, and
with it the platform, loads when a client works in-process.
"""

from typing import TYPE_CHECKING, Any

from shipyard.client._client import Client
from shipyard.client._log_model import LoggedModel
from shipyard.client._tracking import ActiveRun
from shipyard.client._transport import HttpTransport, Transport

if TYPE_CHECKING:
    from shipyard.client._local import LocalTransport

__all__ = ["ActiveRun", "Client", "HttpTransport", "LocalTransport", "LoggedModel", "Transport"]


def __getattr__(name: str) -> Any:
    if name == "LocalTransport":
        from shipyard.client._local import LocalTransport

        return LocalTransport
    raise AttributeError(f"module 'shipyard.client' has no attribute {name!r}")
