"""Who may call the serving runtime: the authorizer every non-public route asks first."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

INVOKE = "endpoints:Invoke"
DESCRIBE = "endpoints:Describe"
READ_METRICS = "endpoints:ReadMetrics"
PUT_FEEDBACK = "endpoints:PutFeedback"


@runtime_checkable
class RequestAuthorizer(Protocol):
    """Decides from the ``Authorization`` header whether a caller may act on a resource.

    Implementations answer from memory (no database access per request).
    """

    def authorize(self, authorization: str | None, action: str, resource: str) -> str:
        """Return the principal's name; raise Unauthenticated or AccessDenied otherwise."""
        ...


def endpoint_resource(endpoint_name: str) -> str:
    """The stable resource name of an endpoint, as policies spell it."""
    return f"sy:endpoint/{endpoint_name}"
