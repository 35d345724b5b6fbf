"""TLS for Shipyard's servers and clients: the server options, the peer certificate as the
ASGI ``tls`` extension, and development certificates (``shipyard certs dev``).

The server side (``ServerTLS``) loads uvicorn; import it from ``shipyard.tls._server``
where a server starts. This face holds only what needs neither uvicorn nor cryptography.
"""

from shipyard.tls._peer import (
    PRINCIPAL_URI_PREFIX,
    has_client_certificate,
    principal_of,
    scope_principal,
    scope_serial,
    tls_extension,
)

__all__ = [
    "PRINCIPAL_URI_PREFIX",
    "has_client_certificate",
    "principal_of",
    "scope_principal",
    "scope_serial",
    "tls_extension",
]
