"""Shipyard's exception tree, its HTTP status table, and the one error document.

Every error a user can cause or meet derives from ``ShipyardError``; each
subclass also inherits the builtin a Python caller would expect. The number is
the HTTP status both the REST control plane and the serving data plane answer::

    ShipyardError                                  500
     ├── InvalidInput (ValueError)                 400  bad request data: names the field
     │    ├── PayloadTooLarge                      413  a request body over the limit
     │    ├── UnsupportedMediaType                 415  a body in a media type not read here
     │    └── MissingFeatures                      422  the online store lacks a needed value
     ├── NotFound (LookupError)                    404  a named resource does not exist
     ├── MethodNotAllowed (LookupError)            405  the path does not answer this method
     ├── Conflict (RuntimeError)                   409  the request clashes with existing state
     ├── Unauthenticated (PermissionError)         401  no credentials, or not recognised
     ├── AccessDenied (PermissionError)            403  credentials fine, policy says no
     ├── IntegrityError (RuntimeError)             500  stored bytes do not match their digest
     │    └── UnsafeArtifact                       422  would need untrusted code to load
     ├── StorageError (OSError)                    503  a backend failed (database, object store)
     ├── Overloaded (RuntimeError)                 503  a serving worker is full; retry shortly
     ├── TooManyRequests (RuntimeError)            429  over the principal's rate or quota
     ├── PredictionFailed (RuntimeError)           500  the model raised on checked input
     └── JobFailed (RuntimeError)                  500  a training or batch job ended in failure

Over HTTP every failure is one JSON document, built by ``error_document``::

    {"error": {"type": "InvalidInput", "message": "must be positive", "field": "limit"}}

``type`` is the class name, so the SDK raises the same class the server did.
(The Open Inference Protocol routes answer ``{"error": "<message>"}`` as that
spec requires; see ``shipyard.serving``.)
"""

from __future__ import annotations

from typing import Any


class ShipyardError(Exception):
    """Root of every error Shipyard raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(ShipyardError, ValueError):
    """The caller sent data that cannot be accepted."""


class PayloadTooLarge(InvalidInput):
    """A request body exceeds the configured limit."""


class UnsupportedMediaType(InvalidInput):
    """The request body is in a media type the route does not read."""


class MissingFeatures(InvalidInput):
    """The online store has no value (or a null) where the model needs one."""


class NotFound(ShipyardError, LookupError):
    """A named resource does not exist."""


class MethodNotAllowed(ShipyardError, LookupError):
    """The path exists but does not answer this HTTP method; ``allowed`` lists those it does."""

    def __init__(
        self, message: str, *, field: str | None = None, allowed: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(message, field=field)
        self.allowed = allowed


class Conflict(ShipyardError, RuntimeError):
    """The request clashes with the current state (duplicate name, busy resource)."""


class Unauthenticated(ShipyardError, PermissionError):
    """No credentials were given, or they were not recognised."""


class AccessDenied(ShipyardError, PermissionError):
    """The principal's policies do not allow the action on the resource.

    ``principal`` names the caller when the raiser knows it (for the audit trail).
    """

    def __init__(
        self, message: str, *, field: str | None = None, principal: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.principal = principal


class IntegrityError(ShipyardError, RuntimeError):
    """Stored bytes do not match the digest they were stored under."""


class UnsafeArtifact(IntegrityError):
    """An artifact would need untrusted code (a pickle, an unknown type) to load."""


class StorageError(ShipyardError, OSError):
    """A storage backend failed."""


class Overloaded(ShipyardError, RuntimeError):
    """A serving worker holds as many requests as it may; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, field: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class TooManyRequests(ShipyardError, RuntimeError):
    """The principal is over its request rate or daily quota; retry after ``retry_after``
    seconds."""

    def __init__(self, message: str, *, field: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class PredictionFailed(ShipyardError, RuntimeError):
    """The model raised while predicting a request that passed the input checks."""


class JobFailed(ShipyardError, RuntimeError):
    """A background job ended in failure."""


HTTP_STATUS: tuple[tuple[type[ShipyardError], int], ...] = (
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (MissingFeatures, 422),
    (InvalidInput, 400),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (Conflict, 409),
    (Unauthenticated, 401),
    (AccessDenied, 403),
    (UnsafeArtifact, 422),
    (IntegrityError, 500),
    (StorageError, 503),
    (Overloaded, 503),
    (TooManyRequests, 429),
    (PredictionFailed, 500),
    (JobFailed, 500),
)
"""Each class's HTTP status, most specific first; anything else is a 500."""


def http_status(error: ShipyardError) -> int:
    """The HTTP status both planes answer ``error`` with."""
    for kind, status in HTTP_STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_document(kind: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The JSON body of every failed request: ``{"error": {"type", "message", "field"}}``."""
    return {"error": {"type": kind, "message": message, "field": field}}


def document_of(error: ShipyardError) -> dict[str, Any]:
    """``error`` as its JSON error document."""
    return error_document(type(error).__name__, error.message, error.field)


def error_of(detail: dict[str, Any]) -> ShipyardError:
    """The exception an error document's ``error`` member names (its class by name)."""
    kinds = {
        cls.__name__: cls
        for cls in globals().values()
        if isinstance(cls, type) and issubclass(cls, ShipyardError)
    }
    cls = kinds.get(str(detail.get("type")), ShipyardError)
    field = detail.get("field")
    return cls(str(detail.get("message", "")), field=None if field is None else str(field))
