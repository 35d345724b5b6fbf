"""Where the data plane's key cache comes from: the metadata store, or the serving supervisor.

``DatabaseKeySource`` reads the active keys (their secrets' hashes, never a secret), the
policies of their principals, the enabled service principals, revoked certificate serials,
principal tags and endpoint tags, with the security generation they were read at. A serving
worker holds no database: its source asks its supervisor, which reads them this way (see
``shipyard.serving._socket_link``); ``KeySnapshot.to_wire`` is what crosses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.platform import Platform
from shipyard.security._certificates import revoked_serials
from shipyard.security._conditions import NO_FACTS, NO_TRANSPORT, Facts, Transport
from shipyard.security._context import base_values
from shipyard.security._generation import current_generation
from shipyard.security._groups import group_policy_documents
from shipyard.security._key_use import write_key_use
from shipyard.security._policy import Decision, PolicyDocument, evaluate_capped, has_conditions
from shipyard.security._tags import principal_tags
from shipyard.store.metadata import group_tables as gt
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tag_tables as tt

_HELD_TAGS = "sy:endpoint/"
"""The resources whose tags the cache holds for ``sy:ResourceTag/`` (the data plane's own)."""

ResourceTags = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class CachedKey:
    secret_hash: str
    principal: str
    policies: tuple[PolicyDocument, ...]
    tags: Mapping[str, str] = field(default_factory=dict)
    conditional: bool = False
    expires_at: datetime | None = None
    boundary: tuple[PolicyDocument, ...] | None = None

    @classmethod
    def of(
        cls,
        secret_hash: str,
        principal: str,
        policies: tuple[PolicyDocument, ...],
        tags: Any,
        expires_at: datetime | None,
        boundary: tuple[PolicyDocument, ...] | None,
    ) -> CachedKey:
        conditional = has_conditions((*policies, *(boundary or ())))
        kept = dict(tags) if conditional else {}
        return cls(secret_hash, principal, policies, kept, conditional, expires_at, boundary)

    def to_wire(self) -> dict[str, Any]:
        """As JSON: the secret's hash only, as the cache holds it, never a secret."""
        return {
            "secret_hash": self.secret_hash,
            "principal": self.principal,
            "policies": [p.model_dump(mode="json", by_alias=True) for p in self.policies],
            "tags": dict(self.tags),
            "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "boundary": None
            if self.boundary is None
            else [p.model_dump(mode="json", by_alias=True) for p in self.boundary],
        }

    @classmethod
    def from_wire(cls, document: dict[str, Any]) -> CachedKey:
        expires = document.get("expires_at")
        boundary = document.get("boundary")
        return cls.of(
            document["secret_hash"],
            document["principal"],
            tuple(PolicyDocument.model_validate(p) for p in document["policies"]),
            document.get("tags") or {},
            None if expires is None else datetime.fromisoformat(expires),
            None if boundary is None else tuple(PolicyDocument.model_validate(p) for p in boundary),
        )

    def decide(
        self,
        action: str,
        resource: str,
        transport: Transport = NO_TRANSPORT,
        resource_tags: ResourceTags | None = None,
    ) -> bool:
        """Whether the policies allow it; conditions see what the control plane's do: the
        time, the principal and its tags, the client's address and transport, and the
        resource's tags."""
        facts = NO_FACTS
        if self.conditional:
            tags = self.tags
            values = base_values(self.principal)
            if transport.source_ip is not None:
                values["sy:SourceIp"] = transport.source_ip
            if transport.secure is not None:
                values["sy:SecureTransport"] = "true" if transport.secure else "false"
            held = (resource_tags or {}).get(resource, {})
            facts = Facts(
                values, {"sy:PrincipalTag/": lambda: tags, "sy:ResourceTag/": lambda: held}
            )
        decision = evaluate_capped(self.policies, self.boundary, action, (resource,), facts)
        return decision is Decision.ALLOW


@dataclass(frozen=True)
class KeySnapshot:
    """Everything the key cache holds, read at one security generation."""

    generation: int
    keys: Mapping[str, CachedKey]
    services: Mapping[str, CachedKey]
    revoked: Mapping[str, str]
    resource_tags: ResourceTags

    def to_wire(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "keys": {k: v.to_wire() for k, v in self.keys.items()},
            "services": {k: v.to_wire() for k, v in self.services.items()},
            "revoked": dict(self.revoked),
            "resource_tags": {k: dict(v) for k, v in self.resource_tags.items()},
        }

    @classmethod
    def from_wire(cls, document: dict[str, Any]) -> KeySnapshot:
        return cls(
            int(document["generation"]),
            {k: CachedKey.from_wire(v) for k, v in document["keys"].items()},
            {k: CachedKey.from_wire(v) for k, v in document["services"].items()},
            dict(document["revoked"]),
            {k: dict(v) for k, v in document["resource_tags"].items()},
        )


class KeySource(Protocol):
    """What ``CachedKeyAuthorizer`` reads its copy from and writes key use to."""

    def snapshot(self) -> KeySnapshot: ...

    def generation(self) -> int:
        """The security generation now (one tiny read)."""
        ...

    def look_up(self, key_id: str) -> tuple[int, CachedKey | None]:
        """(the generation, the key if it is active) for a key not in the copy."""
        ...

    def record_use(self, used: Mapping[str, datetime]) -> None:
        """Store each key's ``last_used_at``."""
        ...


class DatabaseKeySource:
    """The key cache's source in a process that holds the platform."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    def snapshot(self) -> KeySnapshot:
        """Read the active keys and their principals' policies from the metadata store."""
        with self._platform.db.session() as session:
            generation = current_generation(session)
            rows = session.execute(
                sa.select(
                    t.ApiKey.key_id,
                    t.ApiKey.secret_hash,
                    t.Principal.id,
                    t.Principal.name,
                    t.ApiKey.expires_at,
                )
                .join(t.Principal, t.Principal.id == t.ApiKey.principal_id)
                .where(t.ApiKey.revoked_at.is_(None), t.Principal.disabled.is_(False))
            ).all()
            services = session.execute(
                sa.select(t.Principal.id, t.Principal.name).where(
                    t.Principal.kind == "service", t.Principal.disabled.is_(False)
                )
            ).all()
            links = list(
                session.execute(
                    sa.select(t.PrincipalPolicy.principal_id, t.Policy.document).join(
                        t.Policy, t.Policy.id == t.PrincipalPolicy.policy_id
                    )
                )
            )
            links += session.execute(
                sa.select(gt.GroupMember.principal_id, t.Policy.document)
                .join(gt.GroupPolicy, gt.GroupPolicy.group_id == gt.GroupMember.group_id)
                .join(t.Policy, t.Policy.id == gt.GroupPolicy.policy_id)
            ).all()
            boundaries = session.execute(
                sa.select(t.Principal.id, t.Policy.document).join(
                    t.Policy, t.Policy.id == t.Principal.boundary_policy_id
                )
            ).all()
            revoked = revoked_serials(session)
            tag_rows = session.execute(
                sa.select(tt.PrincipalTag.principal_id, tt.PrincipalTag.key, tt.PrincipalTag.value)
            ).all()
            resource_rows = session.execute(
                sa.select(tt.ResourceTag.resource, tt.ResourceTag.key, tt.ResourceTag.value).where(
                    tt.ResourceTag.resource.startswith(_HELD_TAGS, autoescape=True)
                )
            ).all()
        policies: dict[int, list[PolicyDocument]] = {}
        for principal_id, document in links:
            policies.setdefault(principal_id, []).append(PolicyDocument.model_validate(document))
        capped = {pid: (PolicyDocument.model_validate(doc),) for pid, doc in boundaries}
        tags: dict[int, dict[str, str]] = {}
        for principal_id, key, value in tag_rows:
            tags.setdefault(principal_id, {})[key] = value
        resource_tags: dict[str, dict[str, str]] = {}
        for name, key, value in resource_rows:
            resource_tags.setdefault(name, {})[key] = value
        keys = {
            key_id: CachedKey.of(
                secret_hash,
                name,
                tuple(policies.get(principal_id, ())),
                tags.get(principal_id, {}),
                expires_at,
                capped.get(principal_id),
            )
            for key_id, secret_hash, principal_id, name, expires_at in rows
        }
        by_name = {
            name: CachedKey.of(
                "",
                name,
                tuple(policies.get(id_, ())),
                tags.get(id_, {}),
                None,
                capped.get(id_),
            )
            for id_, name in services
        }
        return KeySnapshot(generation, keys, by_name, revoked, resource_tags)

    def generation(self) -> int:
        with self._platform.db.session() as session:
            return current_generation(session)

    def look_up(self, key_id: str) -> tuple[int, CachedKey | None]:
        with self._platform.db.session() as session:
            return current_generation(session), _active_key(session, key_id)

    def record_use(self, used: Mapping[str, datetime]) -> None:
        write_key_use(self._platform, used)


def _active_key(session: Session, key_id: str) -> CachedKey | None:
    """A key that is not revoked, of a principal that is not disabled, with its policies."""
    row = session.execute(
        sa.select(t.ApiKey.secret_hash, t.Principal.id, t.Principal.name, t.ApiKey.expires_at)
        .join(t.Principal, t.Principal.id == t.ApiKey.principal_id)
        .where(
            t.ApiKey.key_id == key_id,
            t.ApiKey.revoked_at.is_(None),
            t.Principal.disabled.is_(False),
        )
    ).first()
    if row is None:
        return None
    secret_hash, principal_id, name, expires_at = row
    documents = session.scalars(
        sa.select(t.Policy.document)
        .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
        .where(t.PrincipalPolicy.principal_id == principal_id)
    )
    found = [*documents, *group_policy_documents(session, principal_id)]
    policies = tuple(PolicyDocument.model_validate(d) for d in found)
    tags = principal_tags(session, principal_id)
    document = session.scalar(
        sa.select(t.Policy.document)
        .join(t.Principal, t.Principal.boundary_policy_id == t.Policy.id)
        .where(t.Principal.id == principal_id)
    )
    boundary = None if document is None else (PolicyDocument.model_validate(document),)
    return CachedKey.of(secret_hash, name, policies, tags, expires_at, boundary)
