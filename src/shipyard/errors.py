"""Shipyard's exception tree.

Every error a user can cause or meet derives from ``ShipyardError``; each
subclass also inherits the builtin a Python caller would expect::

    ShipyardError
     ├── InvalidInput (ValueError)        bad request data: names the field and the problem
     │    └── PayloadTooLarge             a request body over the configured limit
     ├── NotFound (LookupError)           a named resource does not exist
     ├── Conflict (RuntimeError)          the request clashes with existing state
     ├── Unauthenticated (PermissionError) no credentials, or credentials not recognised
     ├── AccessDenied (PermissionError)   credentials fine, policy does not allow it
     ├── IntegrityError (RuntimeError)    stored bytes do not match their digest
     ├── UnsafeArtifact (IntegrityError)  an artifact would need untrusted code to load
     ├── StorageError (OSError)           a backend failed (database, object store)
     └── JobFailed (RuntimeError)         a training or batch job ended in failure

The REST layer maps each class to one status code in ``shipyard.api``.
"""

from __future__ import annotations


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


class NotFound(ShipyardError, LookupError):
    """A named resource does not exist."""


class Conflict(ShipyardError, RuntimeError):
    """The request clashes with the current state (duplicate name, busy resource)."""


class Unauthenticated(ShipyardError, PermissionError):
    """No credentials were given, or they were not recognised."""


class AccessDenied(ShipyardError, PermissionError):
    """The principal's policies do not allow the action on the resource."""


class IntegrityError(ShipyardError, RuntimeError):
    """Stored bytes do not match the digest they were stored under."""


class UnsafeArtifact(IntegrityError):
    """An artifact would need untrusted code (a pickle, an unknown type) to load."""


class StorageError(ShipyardError, OSError):
    """A storage backend failed."""


class JobFailed(ShipyardError, RuntimeError):
    """A background job ended in failure."""
