"""Who may call the serving runtime: the authorizer every non-public route asks first."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from shipyard.security import NO_TRANSPORT, Transport

INVOKE = "endpoints:Invoke"
DESCRIBE = "endpoints:Describe"
READ_METRICS = "endpoints:ReadMetrics"
PUT_FEEDBACK = "endpoints:PutFeedback"


@runtime_checkable
class RequestAuthorizer(Protocol):
    """Decides from the ``Authorization`` header whether a caller may act on a resource.

    ``authorize`` runs on the event loop and answers from memory (no database access
    per request). When memory cannot answer (a key created since it was loaded) it
    returns None, and the app calls ``resolve`` in a worker thread, which may look
    the key up. ``transport`` carries the client's address and whether it came over TLS,
    for ``sy:SourceIp`` and ``sy:SecureTransport`` conditions.
    """

    def authorize(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str | None:
        """The principal's name; raise Unauthenticated or AccessDenied; None: ask ``resolve``."""
        ...

    def resolve(
        self,
        authorization: str | None,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        """As ``authorize``, but never None: may block, so never called on the event loop."""
        ...


class RequestLimiting(Protocol):
    """Admits a principal's request or raises TooManyRequests (its rate or daily quota),
    answering from memory; ``start``/``stop`` run its background work."""

    def check(self, principal: str) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class CertificateAuthorizer(Protocol):
    """An authorizer that also accepts a verified client certificate instead of a key."""

    def authorize_certificate(
        self,
        principal: str | None,
        action: str,
        resource: str,
        serial: str | None = None,
        transport: Transport = NO_TRANSPORT,
    ) -> str:
        """The principal the certificate (of serial number ``serial``) names
        (``sy:principal/NAME``), if it may act and the certificate is not revoked; it
        answers from memory. Raise Unauthenticated or AccessDenied."""
        ...


def endpoint_resource(endpoint_name: str) -> str:
    """The stable resource name of an endpoint, as policies spell it."""
    return f"sy:endpoint/{endpoint_name}"


def presented_key_id(authorization: str | None) -> str | None:
    """The key id of a ``Bearer sy_<key id>_<secret>`` header, for the audit trail."""
    if not authorization:
        return None
    parts = authorization.strip().partition(" ")[2].strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "sy" or len(parts[1]) != 16:
        return None
    key_id = parts[1]
    return key_id if all(c in "0123456789abcdef" for c in key_id) else None
