"""What an authorization check is about: one resource under all its names, and an action on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from shipyard.store.metadata import VersionedKind, latest_number


@dataclass(frozen=True)
class ResourceName:
    """One resource under every name a policy may use for it.

    ``name`` is the most specific (``sy:model/churn/3``); ``others`` are the same object
    named less specifically (``sy:model/churn``). A Deny on any of them refuses, an Allow
    on any of them allows, so no way of naming a version escapes a statement about it.
    """

    name: str
    others: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: str | ResourceName) -> ResourceName:
        return value if isinstance(value, ResourceName) else cls(value)

    @classmethod
    def versioned(cls, kind: str, name: str, version: int | str | None) -> ResourceName:
        """``sy:<kind>/<name>/<version>``, also known as ``sy:<kind>/<name>``."""
        if version is None:
            return cls(f"sy:{kind}/{name}")
        return cls(f"sy:{kind}/{name}/{version}", (f"sy:{kind}/{name}",))

    @classmethod
    def scoped(cls, kind: str, owner: str | None, key: str) -> ResourceName:
        """``sy:<kind>/<owner>/<key>`` (also ``sy:<kind>/<key>``): an object without a name
        of its own, named under what owns it so a policy can scope it; unowned, by key."""
        plain = f"sy:{kind}/{key}"
        return cls(f"sy:{kind}/{owner}/{key}", (plain,)) if owner else cls(plain)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.others)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Access:
    """An action an operation needs on one resource, and the condition keys this access
    adds to the request (``sy:ModelApprovalStatus`` of the model version it serves)."""

    action: str
    resource: ResourceName
    context: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)

    def __init__(
        self,
        action: str,
        resource: str | ResourceName,
        context: Mapping[str, object] | None = None,
    ) -> None:
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "resource", ResourceName.of(resource))
        object.__setattr__(self, "context", context or {})


def latest_versioned(
    session: Session,
    kind: str,
    versioned: VersionedKind[Any, Any],
    name: str,
    version: int | None,
) -> ResourceName:
    """The version ``sy:<kind>/<name>/<version>`` names, the latest when ``version`` is None.

    ``versioned`` says which tables hold the resource's versions. An object without
    versions is named by ``name`` alone, so the check still runs before the caller learns
    whether it exists.
    """
    if version is None:
        version = latest_number(session, versioned, name)
    return ResourceName.versioned(kind, name, version)
