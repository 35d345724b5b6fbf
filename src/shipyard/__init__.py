"""Shipyard: the production machine-learning lifecycle in one self-hosted install."""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from shipyard.client import Client

__all__ = ["Client", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from shipyard.client import Client

        return Client
    raise AttributeError(name)
