"""Wire types: the requests and results of every operation, the spec and report documents.

Each module imports only pydantic and the core (``shipyard.errors``, ``shipyard.names``,
``shipyard.clock``), so the SDK's HTTP transport and the CLI can use them without the
server. Import the module you need (``shipyard.schemas.datasets``); this package's face is
empty on purpose, so importing one area does not build the models of every other.
"""
