"""The policy simulator: would this principal be allowed this action on this resource, and
which statement decides? It evaluates exactly as ``RequestContext.authorize`` does."""

from __future__ import annotations

import re

import sqlalchemy as sa

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import resource as resource_name
from shipyard.schemas.security import MatchedStatement, Simulation
from shipyard.security._context import RequestContext
from shipyard.security._operation import operation
from shipyard.security._policy import PolicyDocument, evaluate_names
from shipyard.security._resources import Access
from shipyard.store.metadata import tables as t

_VERSIONED = re.compile(r"^(sy:[a-z-]+/[^/]+)/\d+\Z")


def _names(name: str) -> tuple[str, ...]:
    """A resource under all the names a check uses: a version is also its parent's."""
    versioned = _VERSIONED.match(name)
    return (name, versioned.group(1)) if versioned else (name,)


@operation(
    "iam:SimulatePolicy",
    lambda principal: resource_name("principal", principal),
    uses=lambda: [Access("iam:ListPolicies", resource_name("policy"))],
    mutating=False,
)
def simulate_policy(ctx: RequestContext, principal: str, action: str, resource: str) -> Simulation:
    """Decide ``action`` on ``resource`` for ``principal`` under its attached policies (it
    reads their documents, so it needs ``iam:ListPolicies`` as well)."""
    if not re.match(r"^[A-Za-z-]+:[A-Za-z]+\Z", action):
        raise InvalidInput(
            "must be '<service>:<Action>', e.g. 'datasets:GetDataset'", field="action"
        )
    if not resource.startswith("sy:") or len(resource) > 300:
        raise InvalidInput("must be a resource name 'sy:<kind>/<name>'", field="resource")
    with ctx.platform.db.session() as session:
        principal_id = session.scalar(
            sa.select(t.Principal.id).where(t.Principal.name == principal)
        )
        if principal_id is None:
            raise NotFound(f"principal {principal!r} does not exist", field="principal")
        attached = session.execute(
            sa.select(t.Policy.name, t.Policy.document)
            .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
            .where(t.PrincipalPolicy.principal_id == principal_id)
            .order_by(t.Policy.name)
        ).all()
    documents = [(name, PolicyDocument.model_validate(doc)) for name, doc in attached]
    names = _names(resource)
    matched = [
        MatchedStatement(policy=name, index=i, sid=statement.Sid, effect=statement.Effect)
        for name, document in documents
        for i, statement in enumerate(document.Statement)
        if statement.applies_to_action(action) and statement.applies_to_resource(*names)
    ]
    decision = evaluate_names([d for _, d in documents], action, names)
    denies = [m for m in matched if m.effect == "Deny"]
    deciding = denies[0] if denies else (matched[0] if matched else None)
    return Simulation(
        principal=principal,
        action=action,
        resource=resource,
        decision=decision.value,
        deciding=deciding,
        matched=matched,
    )
