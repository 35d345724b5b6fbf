"""The policy simulator: would this principal be allowed this action on this resource, and
which statement decides? It evaluates exactly as ``RequestContext.authorize`` does, with the
condition keys the caller gives (a real request's address, time...) over the principal's
and the resource's stored tags."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa

from shipyard.errors import InvalidInput, NotFound
from shipyard.names import resource as resource_name
from shipyard.schemas.security import MatchedStatement, Simulation, UnmetCondition
from shipyard.security._conditions import ContextValue, Facts, key_problem
from shipyard.security._context import RequestContext, base_values
from shipyard.security._operation import operation
from shipyard.security._policy import PolicyDocument, evaluate_capped
from shipyard.security._resources import Access
from shipyard.security._tags import principal_tags, resource_tags
from shipyard.store.metadata import group_tables as gt
from shipyard.store.metadata import tables as t

_VERSIONED = re.compile(r"^(sy:[a-z-]+/[^/]+)/\d+\Z")
_MAX_CONTEXT = 50


def _names(name: str) -> tuple[str, ...]:
    """A resource under all the names a check uses: a version is also its parent's."""
    versioned = _VERSIONED.match(name)
    return (name, versioned.group(1)) if versioned else (name,)


def _checked_context(context: Mapping[str, object] | None) -> dict[str, ContextValue]:
    """The given condition keys, each known and each a text or a list of texts."""
    if context is None:
        return {}
    if not isinstance(context, Mapping) or len(context) > _MAX_CONTEXT:
        raise InvalidInput(f"must map at most {_MAX_CONTEXT} condition keys", field="context")
    checked: dict[str, ContextValue] = {}
    for key, value in context.items():
        problem = key_problem(str(key), "string", "ForAnyValue:")
        if problem is not None:
            raise InvalidInput(problem, field=f"context.{key}")
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            checked[key] = list(value)
        elif isinstance(value, str) and len(value) <= 1000:
            checked[key] = value
        else:
            raise InvalidInput("must be a text or a list of texts", field=f"context.{key}")
    return checked


@operation(
    "iam:SimulatePolicy",
    lambda principal: resource_name("principal", principal),
    uses=lambda: [Access("iam:ListPolicies", resource_name("policy"))],
    mutating=False,
)
def simulate_policy(
    ctx: RequestContext,
    principal: str,
    action: str,
    resource: str,
    context: dict[str, str | list[str]] | None = None,
) -> Simulation:
    """Decide ``action`` on ``resource`` for ``principal`` under its attached policies (it
    reads their documents, so it needs ``iam:ListPolicies`` as well). ``context`` gives
    condition keys (``{"sy:SourceIp": "10.0.0.7"}``); the principal's and the resource's
    tags come from the store, and ``sy:CurrentTime`` is now unless given."""
    if not re.match(r"^[A-Za-z-]+:[A-Za-z]+\Z", action):
        raise InvalidInput(
            "must be '<service>:<Action>', e.g. 'datasets:GetDataset'", field="action"
        )
    if not resource.startswith("sy:") or len(resource) > 300:
        raise InvalidInput("must be a resource name 'sy:<kind>/<name>'", field="resource")
    given = _checked_context(context)
    with ctx.platform.db.session() as session:
        principal_id = session.scalar(
            sa.select(t.Principal.id).where(t.Principal.name == principal)
        )
        if principal_id is None:
            raise NotFound(f"principal {principal!r} does not exist", field="principal")
        attached = list(
            session.execute(
                sa.select(t.Policy.name, t.Policy.document)
                .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
                .where(t.PrincipalPolicy.principal_id == principal_id)
                .order_by(t.Policy.name)
            )
        )
        attached += session.execute(  # through its groups, named "<group>/<policy>"
            sa.select(gt.Group.name + "/" + t.Policy.name, t.Policy.document)
            .join(gt.GroupPolicy, gt.GroupPolicy.policy_id == t.Policy.id)
            .join(gt.Group, gt.Group.id == gt.GroupPolicy.group_id)
            .join(gt.GroupMember, gt.GroupMember.group_id == gt.Group.id)
            .where(gt.GroupMember.principal_id == principal_id)
            .order_by(gt.Group.name, t.Policy.name)
        ).all()
        tags = principal_tags(session, principal_id)
        capping = session.execute(
            sa.select(t.Policy.name, t.Policy.document)
            .join(t.Principal, t.Principal.boundary_policy_id == t.Policy.id)
            .where(t.Principal.id == principal_id)
        ).first()
    documents = [(name, PolicyDocument.model_validate(doc)) for name, doc in attached]
    boundary = (capping[0], PolicyDocument.model_validate(capping[1])) if capping else None
    names = _names(resource)
    values = {k.lower(): v for k, v in base_values(principal).items()}
    values |= {k.lower(): v for k, v in given.items()}
    facts = Facts(
        values,
        {
            "sy:PrincipalTag/": lambda: tags,
            "sy:ResourceTag/": lambda: resource_tags(ctx.platform.db, names),
        },
    )
    matched: list[MatchedStatement] = []
    unmet: list[UnmetCondition] = []
    allows: list[MatchedStatement] = []  # the identity policies' (a boundary only caps)
    sources = [(n, d, False) for n, d in documents] + ([(*boundary, True)] if boundary else [])
    for name, document, capping_only in sources:
        for i, statement in enumerate(document.Statement):
            if not (statement.applies_to_action(action) and statement.applies_to_resource(*names)):
                continue
            failing = statement.condition.first_failing(facts) if statement.condition else None
            if failing is None:
                found = MatchedStatement(
                    policy=name, index=i, sid=statement.Sid, effect=statement.Effect
                )
                matched.append(found)
                if statement.Effect == "Allow" and not capping_only:
                    allows.append(found)
            else:
                unmet.append(
                    UnmetCondition(
                        policy=name,
                        index=i,
                        sid=statement.Sid,
                        effect=statement.Effect,
                        condition=failing.describe(),
                    )
                )
    capped = (boundary[1],) if boundary else None
    decision = evaluate_capped([d for _, d in documents], capped, action, names, facts)
    identity = [m for m in matched if boundary is None or m.policy != boundary[0]]
    denies = [m for m in matched if m.effect == "Deny"]
    allows = [m for m in identity if m.effect == "Allow"]
    deciding = (
        denies[0] if denies else (allows[0] if allows and decision.value == "allow" else None)
    )
    return Simulation(
        principal=principal,
        action=action,
        resource=resource,
        decision=decision.value,
        deciding=deciding,
        matched=matched,
        unmet=unmet,
        context=given,
        boundary=boundary[0] if boundary else None,
    )
