"""The ``shipyard`` command line."""

from shipyard.cli._main import app, entrypoint, main

__all__ = ["app", "entrypoint", "main"]
