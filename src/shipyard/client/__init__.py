"""The Shipyard SDK."""

from shipyard.client._client import Client
from shipyard.client._log_model import LoggedModel
from shipyard.client._tracking import ActiveRun
from shipyard.client._transport import HttpTransport, LocalTransport, Transport

__all__ = ["ActiveRun", "Client", "HttpTransport", "LocalTransport", "LoggedModel", "Transport"]
