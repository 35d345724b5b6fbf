"""The request context every service call takes, and the one point where it is authorized."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.security._audit import record_event
from shipyard.security._policy import (
    Decision,
    PolicyDocument,
    allows_action_anywhere,
    evaluate,
    evaluate_names,
)
from shipyard.security._resources import ResourceName


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass
class RequestContext:
    """Who is asking (principal and its policies), through which installation, and which request."""

    platform: Platform
    principal: str
    policies: tuple[PolicyDocument, ...]
    request_id: str = field(default_factory=new_request_id)

    def authorize_attempt(self, action: str) -> None:
        """Deny before looking at arguments when no policy allows ``action`` anywhere.

        Keeps a principal without the permission from learning how its request was malformed.
        """
        if not allows_action_anywhere(self.policies, action):
            self.authorize(action, "sy:*")

    def decide(self, action: str, resource: str | ResourceName) -> tuple[Decision, str]:
        """The decision on a resource under all its names, and the name to report it by.

        A statement applies when it takes in the resource under any of its names (a
        ``NotResource`` listing any name excepts it); an explicit Deny wins. A denial is
        reported by the name a Deny statement named, else by the most specific name.
        """
        named = ResourceName.of(resource)
        decision = evaluate_names(self.policies, action, named.names)
        if decision is Decision.EXPLICIT_DENY and len(named.names) > 1:
            for name in named.names:
                if evaluate(self.policies, action, name) is Decision.EXPLICIT_DENY:
                    return decision, name
        return decision, named.name

    def authorize(self, action: str, resource: str | ResourceName) -> None:
        """Raise AccessDenied (and audit the denial) unless the policies allow the action."""
        decision, name = self.decide(action, resource)
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
