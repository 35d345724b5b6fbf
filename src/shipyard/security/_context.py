"""The request context every service call takes, and the one point where it is authorized."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.security._audit import record_event
from shipyard.security._conditions import NO_FACTS, ContextValue, Facts
from shipyard.security._policy import (
    Decision,
    PolicyDocument,
    allows_action_anywhere,
    evaluate_capped,
    has_conditions,
)
from shipyard.security._resources import ResourceName
from shipyard.security._tags import resource_tags

OperationKeys = Mapping[str, object]


def new_request_id() -> str:
    return uuid.uuid4().hex


def context_value(value: object) -> ContextValue:
    """A condition key's value as requests carry it: text, or a list of texts."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(context_value(v)) for v in value]
    return str(value)


def base_values(principal: str) -> dict[str, ContextValue]:
    """The condition keys every request has: the time and who asks."""
    now = utcnow()
    return {
        "sy:CurrentTime": now.isoformat(),
        "sy:EpochTime": str(int(now.timestamp())),
        "sy:PrincipalName": principal,
    }


@dataclass
class RequestContext:
    """Who is asking (principal, its policies and tags), through which installation, which
    request, and the facts of its transport (client address, https) that conditions test.

    ``source_ip`` and ``secure_transport`` are None for in-process calls: there is no
    client address and no transport, so ``sy:SourceIp`` and ``sy:SecureTransport`` are absent.
    """

    platform: Platform
    principal: str
    policies: tuple[PolicyDocument, ...]
    request_id: str = field(default_factory=new_request_id)
    source_ip: str | None = None
    secure_transport: bool | None = None
    principal_tags: Mapping[str, str] = field(default_factory=dict)
    boundary: tuple[PolicyDocument, ...] | None = None
    """The permission boundary: what the policies allow is capped by it (None: no cap)."""

    @cached_property
    def conditional(self) -> bool:
        """Whether any of the policies has a Condition (else facts are never gathered)."""
        return has_conditions((*self.policies, *(self.boundary or ())))

    def facts(self, resource: ResourceName, keys: OperationKeys | None = None) -> Facts:
        """The condition keys of this request on ``resource``: transport, time, principal,
        the operation's own keys and, when a condition asks, principal and resource tags."""
        values = base_values(self.principal)
        if self.source_ip is not None:
            values["sy:SourceIp"] = self.source_ip
        if self.secure_transport is not None:
            values["sy:SecureTransport"] = context_value(self.secure_transport)
        for key, value in (keys or {}).items():
            if value is not None:
                values[key] = context_value(value)
        db = self.platform.db
        return Facts(
            values,
            {
                "sy:PrincipalTag/": lambda: self.principal_tags,
                "sy:ResourceTag/": lambda: resource_tags(db, resource.names),
            },
        )

    def authorize_attempt(self, action: str) -> None:
        """Deny before looking at arguments when no policy allows ``action`` anywhere.

        Keeps a principal without the permission from learning how its request was malformed.
        """
        boundary_allows = self.boundary is None or allows_action_anywhere(self.boundary, action)
        if not (boundary_allows and allows_action_anywhere(self.policies, action)):
            self.authorize(action, "sy:*")

    def decide(
        self, action: str, resource: str | ResourceName, keys: OperationKeys | None = None
    ) -> tuple[Decision, str]:
        """The decision on a resource under all its names, and the name to report it by.

        A statement applies when it takes in the resource under any of its names (a
        ``NotResource`` listing any name excepts it) and its Condition holds; an explicit
        Deny wins. A denial is reported by the name a Deny statement named, else by the
        most specific name.
        """
        named = ResourceName.of(resource)
        facts = self.facts(named, keys) if self.conditional else NO_FACTS
        decision = evaluate_capped(self.policies, self.boundary, action, named.names, facts)
        if decision is Decision.EXPLICIT_DENY and len(named.names) > 1:
            for name in named.names:
                one = evaluate_capped(self.policies, self.boundary, action, (name,), facts)
                if one is Decision.EXPLICIT_DENY:
                    return decision, name
        return decision, named.name

    def authorize(
        self, action: str, resource: str | ResourceName, keys: OperationKeys | None = None
    ) -> None:
        """Raise AccessDenied (and audit the denial) unless the policies allow the action."""
        decision, name = self.decide(action, resource, keys)
        if decision is Decision.ALLOW:
            return
        record_event(
            self.platform.db,
            principal=self.principal,
            action=action,
            resource=name,
            outcome="denied",
            request_id=self.request_id,
            detail={"reason": decision.value},
        )
        raise AccessDenied(f"{self.principal} is not allowed to {action} on {name}")
