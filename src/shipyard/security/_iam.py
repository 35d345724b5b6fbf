"""Principals, API keys and policies: the IAM service, and authentication of a key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.schemas.security import ApiKeyInfo, PolicyInfo, PrincipalInfo
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._groups import group_policy_documents
from shipyard.security._key_use import KeyUse
from shipyard.security._keys import IssuedKey, issue_key, parse_bearer, secret_matches
from shipyard.security._operation import operation
from shipyard.security._policy import BUILTIN_POLICIES, PolicyDocument, has_conditions
from shipyard.security._policy_versions import policy_info, record_version
from shipyard.security._resources import Access, ResourceName
from shipyard.security._tagging import check_tags, request_tag_keys, set_principal_tags
from shipyard.security._tags import principal_tags
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import console_tables as ct
from shipyard.store.metadata import group_tables as gt
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tag_tables as tt

ADMIN = "admin"


def _principal(session: Session, name: str) -> t.Principal:
    row = session.scalar(sa.select(t.Principal).where(t.Principal.name == name))
    if row is None:
        raise NotFound(f"principal {name!r} does not exist", field="principal")
    return row


def _policy_names(session: Session, principal_id: int) -> list[str]:
    query = (
        sa.select(t.Policy.name)
        .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
        .where(t.PrincipalPolicy.principal_id == principal_id)
        .order_by(t.Policy.name)
    )
    return list(session.scalars(query))


def principal_info(session: Session, row: t.Principal) -> PrincipalInfo:
    return PrincipalInfo(
        name=row.name,
        kind=row.kind,
        disabled=row.disabled,
        created_at=row.created_at,
        policies=_policy_names(session, row.id),
        tags=principal_tags(session, row.id),
        boundary=session.scalar(
            sa.select(t.Policy.name).where(t.Policy.id == row.boundary_policy_id)
        )
        if row.boundary_policy_id is not None
        else None,
        trust_policy=row.trust_policy,
    )


def _tags_if_tested(
    session: Session, principal_id: int, policies: Sequence[PolicyDocument]
) -> dict[str, str]:
    """The principal's tags, read only when some policy has a condition that may test them."""
    return principal_tags(session, principal_id) if has_conditions(policies) else {}


def _boundary_of(session: Session, principal_id: int) -> tuple[PolicyDocument, ...] | None:
    """The principal's permission boundary as a policy set, or None when it has none."""
    document = session.scalar(
        sa.select(t.Policy.document)
        .join(t.Principal, t.Principal.boundary_policy_id == t.Policy.id)
        .where(t.Principal.id == principal_id)
    )
    return None if document is None else (PolicyDocument.model_validate(document),)


def _policies_of(session: Session, principal_id: int) -> tuple[PolicyDocument, ...]:
    """The principal's policies: attached to it, and to the groups it belongs to."""
    query = (
        sa.select(t.Policy.document)
        .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
        .where(t.PrincipalPolicy.principal_id == principal_id)
    )
    documents = [*session.scalars(query), *group_policy_documents(session, principal_id)]
    return tuple(PolicyDocument.model_validate(doc) for doc in documents)


def bootstrap(platform: Platform) -> None:
    """Create the built-in policies and the local admin principal if they are missing."""
    with platform.db.session() as session:
        for name, document in BUILTIN_POLICIES.items():
            if session.scalar(sa.select(t.Policy.id).where(t.Policy.name == name)) is None:
                row = t.Policy(name=name, document=document.model_dump(exclude_none=True))
                session.add(row)
                record_version(session, row, row.document, "")
        if session.scalar(sa.select(t.Principal.id).where(t.Principal.name == ADMIN)) is None:
            admin = t.Principal(name=ADMIN, kind="user")
            session.add(admin)
            session.flush()
            policy_id = session.scalar(
                sa.select(t.Policy.id).where(t.Policy.name == "AdministratorAccess")
            )
            session.add(t.PrincipalPolicy(principal_id=admin.id, policy_id=policy_id))


def issue_admin_key_if_none(platform: Platform) -> IssuedKey | None:
    """Give the bootstrap admin its first key; None when it already has an active one."""
    with platform.db.session() as session:
        admin = _principal(session, ADMIN)
        active = session.scalar(
            sa.select(t.ApiKey.id).where(
                t.ApiKey.principal_id == admin.id,
                t.ApiKey.revoked_at.is_(None),
                sa.or_(t.ApiKey.expires_at.is_(None), t.ApiKey.expires_at > utcnow()),
            )
        )
        if active is not None:
            return None
        key = issue_key()
        session.add(t.ApiKey(key_id=key.key_id, principal_id=admin.id, secret_hash=key.secret_hash))
        return key


def context_for(
    platform: Platform, principal: str, request_id: str | None = None
) -> RequestContext:
    """The context of a known principal, with its current policies (for in-process use)."""
    with platform.db.session() as session:
        row = _principal(session, principal)
        policies = _policies_of(session, row.id)
        boundary = _boundary_of(session, row.id)
        tags = _tags_if_tested(session, row.id, (*policies, *(boundary or ())))
    ctx = RequestContext(
        platform=platform,
        principal=principal,
        policies=policies,
        principal_tags=tags,
        boundary=boundary,
    )
    if request_id:
        ctx.request_id = request_id
    return ctx


def valid_key(session: Session, key_id: str, secret: str) -> tuple[t.ApiKey, t.Principal]:
    """The live key ``key_id`` whose secret matches, with its enabled principal; otherwise
    Unauthenticated, the same answer whatever was wrong."""
    row = session.execute(
        sa.select(t.ApiKey, t.Principal)
        .join(t.Principal, t.Principal.id == t.ApiKey.principal_id)
        .where(t.ApiKey.key_id == key_id)
    ).first()
    if row is None or row[0].revoked_at is not None or row[1].disabled:
        raise Unauthenticated("API key is not valid")
    if row[0].expires_at is not None and row[0].expires_at <= utcnow():
        raise Unauthenticated("API key is not valid")
    if not secret_matches(secret, row[0].secret_hash):
        raise Unauthenticated("API key is not valid")
    return row[0], row[1]


def authenticate(
    platform: Platform,
    authorization: str | None,
    request_id: str | None = None,
    key_use: KeyUse | None = None,
) -> RequestContext:
    """Turn an ``Authorization: Bearer`` header into a context, or raise Unauthenticated;
    the key's use is noted in ``key_use`` (written later, by its owner)."""
    key_id, secret = parse_bearer(authorization)
    with platform.db.session() as session:
        row = valid_key(session, key_id, secret)
        policies = _policies_of(session, row[1].id)
        boundary = _boundary_of(session, row[1].id)
        tags = _tags_if_tested(session, row[1].id, (*policies, *(boundary or ())))
        name = row[1].name
    if key_use is not None:
        key_use.note(key_id)
    ctx = RequestContext(
        platform=platform, principal=name, policies=policies, principal_tags=tags, boundary=boundary
    )
    if request_id:
        ctx.request_id = request_id
    return ctx


def _principal_resource(name: str) -> str:
    return resource("principal", name)


@operation(
    "iam:CreatePrincipal",
    _principal_resource,
    uses=lambda name, tags: [Access("iam:TagPrincipal", _principal_resource(name))] if tags else [],
    context=request_tag_keys,
    mutating=True,
)
def create_principal(
    ctx: RequestContext, name: str, kind: str = "user", tags: dict[str, str] | None = None
) -> PrincipalInfo:
    """Create a user or service principal with no policies (it may do nothing yet), with
    ``tags`` if given (which needs ``iam:TagPrincipal`` too; both see ``sy:RequestTag/<k>``)."""
    check_name(name)
    if kind not in ("user", "service"):
        raise Conflict("kind must be 'user' or 'service'", field="kind")
    given = check_tags(tags) if tags else {}
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Principal.id).where(t.Principal.name == name)) is not None:
            raise Conflict(f"principal {name!r} already exists", field="name")
        row = t.Principal(name=name, kind=kind)
        session.add(row)
        session.flush()
        if given:
            set_principal_tags(session, row.id, given)
            session.flush()
        return principal_info(session, row)


def _set_disabled(ctx: RequestContext, principal: str, disabled: bool) -> PrincipalInfo:
    if disabled and principal == ctx.principal:
        raise Conflict("a principal cannot disable itself", field="principal")
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        ended = _end_assumed_sessions(session, principal) if disabled else 0
        if row.disabled != disabled or ended:
            row.disabled = disabled
            bump_generation(session)
            session.flush()
        return principal_info(session, row)


def _end_assumed_sessions(session: Session, principal: str) -> int:
    """Revoke the role session keys ``principal`` assumed and that still work: they are keys
    of the roles, so neither disabling nor deleting the principal would stop them."""
    now = utcnow()
    ended = session.execute(
        sa.update(t.ApiKey)
        .where(
            t.ApiKey.assumed_by == principal,
            t.ApiKey.revoked_at.is_(None),
            sa.or_(t.ApiKey.expires_at.is_(None), t.ApiKey.expires_at > now),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


@operation("iam:UpdatePrincipal", lambda principal: _principal_resource(principal), mutating=True)
def disable_principal(ctx: RequestContext, principal: str) -> PrincipalInfo:
    """Stop a principal: its keys and console sessions stop working at once (kept, so
    enabling it again restores them); the role sessions it assumed are revoked."""
    return _set_disabled(ctx, principal, True)


@operation("iam:UpdatePrincipal", lambda principal: _principal_resource(principal), mutating=True)
def enable_principal(ctx: RequestContext, principal: str) -> PrincipalInfo:
    """Let a disabled principal work again."""
    return _set_disabled(ctx, principal, False)


@operation("iam:DeletePrincipal", lambda principal: _principal_resource(principal), mutating=True)
def delete_principal(ctx: RequestContext, principal: str) -> PrincipalInfo:
    """Delete a principal with its keys, sessions, tags and policy attachments (the audit
    trail keeps its name), and revoke the role sessions it assumed. A principal cannot
    delete itself."""
    if principal == ctx.principal:
        raise Conflict("a principal cannot delete itself", field="principal")
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        info = principal_info(session, row)
        for table, column in (
            (ct.ConsoleSession, ct.ConsoleSession.principal_id),
            (t.ApiKey, t.ApiKey.principal_id),
            (t.PrincipalPolicy, t.PrincipalPolicy.principal_id),
            (tt.PrincipalTag, tt.PrincipalTag.principal_id),
            (gt.GroupMember, gt.GroupMember.principal_id),
        ):
            session.execute(sa.delete(table).where(column == row.id))
        _end_assumed_sessions(session, principal)
        session.delete(row)
        bump_generation(session)
        return info


@operation(
    "iam:PutPrincipalBoundary",
    lambda principal: _principal_resource(principal),
    uses=lambda policy: [Access("iam:AttachPolicy", resource("policy", policy))],
    mutating=True,
)
def put_principal_boundary(ctx: RequestContext, principal: str, policy: str) -> PrincipalInfo:
    """Cap what a principal's policies allow by ``policy``: a request is allowed only when
    both its policies and the boundary allow it (an explicit Deny in either wins)."""
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        policy_id = session.scalar(sa.select(t.Policy.id).where(t.Policy.name == policy))
        if policy_id is None:
            raise NotFound(f"policy {policy!r} does not exist", field="policy")
        row.boundary_policy_id = policy_id
        bump_generation(session)
        session.flush()
        return principal_info(session, row)


@operation(
    "iam:DeletePrincipalBoundary",
    lambda principal: _principal_resource(principal),
    mutating=True,
)
def delete_principal_boundary(ctx: RequestContext, principal: str) -> PrincipalInfo:
    """Remove a principal's permission boundary (its policies alone decide again)."""
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        if row.boundary_policy_id is not None:
            row.boundary_policy_id = None
            bump_generation(session)
            session.flush()
        return principal_info(session, row)


@operation("iam:ListPrincipals", lambda: resource("principal"), mutating=False)
def list_principals(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[PrincipalInfo]:
    """Principals by name, a page at a time, with their policies."""
    keyset = Keyset("principals", t.Principal.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(t.Principal))).all()
        found, token = keyset.page(rows, lambda p: p.name)
        items = [principal_info(session, row) for row in found]
    return Page[PrincipalInfo](items=items, next_page_token=token)


_LIFETIME = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$", re.IGNORECASE)
_LIFETIME_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
MAX_KEY_DAYS = 3650


def key_lifetime(value: str) -> timedelta:
    """How long a new key lives: ``"90m"``, ``"12h"``, ``"30d"``, ``"2w"`` (up to 10 years)."""
    match = _LIFETIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{value!r} is not a lifetime (e.g. 90m, 12h, 30d, 2w)", field="expires_in"
        )
    lifetime = timedelta(seconds=int(match.group(1)) * _LIFETIME_SECONDS[match.group(2).lower()])
    if not timedelta(minutes=1) <= lifetime <= timedelta(days=MAX_KEY_DAYS):
        raise InvalidInput(
            f"must be from 1 minute to {MAX_KEY_DAYS} days, got {value!r}", field="expires_in"
        )
    return lifetime


def _key_info(k: t.ApiKey, principal: str, token: str | None = None) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=k.key_id,
        principal=principal,
        created_at=k.created_at,
        revoked=k.revoked_at is not None,
        revoked_at=k.revoked_at,
        expires_at=k.expires_at,
        token=token,
        assumed_by=k.assumed_by,
        created_by=k.created_by,
        last_used_at=k.last_used_at,
    )


@operation("iam:CreateApiKey", lambda principal: resource("principal", principal), mutating=True)
def create_api_key(
    ctx: RequestContext, principal: str, expires_in: str | None = None
) -> ApiKeyInfo:
    """Issue a key for a principal, living ``expires_in`` (``"30d"``) or until revoked; the
    token is in this answer and nowhere else, ever."""
    expires_at = utcnow() + key_lifetime(expires_in) if expires_in is not None else None
    key = issue_key()
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        if row.kind == "role":
            raise Conflict(
                f"{principal!r} is a role: assume it for a session key", field="principal"
            )
        record = t.ApiKey(
            key_id=key.key_id,
            principal_id=row.id,
            secret_hash=key.secret_hash,
            created_by=ctx.principal,
            expires_at=expires_at,
        )
        session.add(record)
        session.flush()
        return _key_info(record, principal, key.token)


@operation("iam:ListApiKeys", lambda principal: resource("principal", principal), mutating=False)
def list_api_keys(
    ctx: RequestContext,
    principal: str,
    limit: int = DEFAULT_LIMIT,
    page_token: str | None = None,
) -> Page[ApiKeyInfo]:
    """A principal's keys, revoked ones included, oldest first, a page at a time: ids, who
    issued them and times, never secrets."""
    keyset = Keyset("api-keys", t.ApiKey.id, limit, page_token, filters=(principal,))
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        keys = session.scalars(
            keyset.apply(sa.select(t.ApiKey).where(t.ApiKey.principal_id == row.id))
        ).all()
        found, token = keyset.page(keys, lambda k: k.id)
        items = [_key_info(k, principal) for k in found]
    return Page[ApiKeyInfo](items=items, next_page_token=token)


def _key_resource(session: Session, key_id: str) -> ResourceName:
    """``sy:apikey/<principal>/<key id>`` (also ``sy:apikey/<key id>``): keys by their owner."""
    owner = session.scalar(
        sa.select(t.Principal.name)
        .join(t.ApiKey, t.ApiKey.principal_id == t.Principal.id)
        .where(t.ApiKey.key_id == key_id)
    )
    return ResourceName.scoped("apikey", owner, key_id)


@operation("iam:RevokeApiKey", _key_resource, mutating=True)
def revoke_api_key(ctx: RequestContext, key_id: str) -> ApiKeyInfo:
    with ctx.platform.db.session() as session:
        record = session.scalar(sa.select(t.ApiKey).where(t.ApiKey.key_id == key_id))
        if record is None:
            raise NotFound(f"API key {key_id!r} does not exist", field="key_id")
        record.revoked_at = record.revoked_at or utcnow()
        bump_generation(session)
        owner = session.get(t.Principal, record.principal_id)
        return _key_info(record, owner.name if owner else "")


@operation("iam:PutPolicy", lambda name: resource("policy", name), mutating=True)
def put_policy(ctx: RequestContext, name: str, document: dict[str, Any]) -> PolicyInfo:
    """Create a named policy, or give it a new version that becomes its default (built-in
    policies cannot be replaced; ``set_default_policy_version`` rolls back).

    The document is checked against the action table here, when it is stored: an unknown
    action or a malformed resource is refused naming its field and the nearest valid name.
    Documents read back later are not re-checked, so older policies keep loading.
    """
    check_name(name)
    if name in BUILTIN_POLICIES:
        raise Conflict(f"policy {name!r} is built in and cannot be replaced", field="name")
    parsed = PolicyDocument.parse(document).model_dump(exclude_none=True)
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(t.Policy).where(t.Policy.name == name))
        if row is None:
            row = t.Policy(name=name, document=parsed)
            session.add(row)
        record_version(session, row, parsed, ctx.principal)
        bump_generation(session)
        session.flush()
        return policy_info(row)


@operation("iam:ListPolicies", lambda: resource("policy"), mutating=False)
def list_policies(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[PolicyInfo]:
    """Policies by name, a page at a time, with their documents."""
    keyset = Keyset("policies", t.Policy.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(t.Policy))).all()
        found, token = keyset.page(rows, lambda p: p.name)
        items = [policy_info(r) for r in found]
    return Page[PolicyInfo](items=items, next_page_token=token)


@operation(
    "iam:AttachPolicy",
    lambda principal: resource("principal", principal),
    uses=lambda policy: [Access("iam:AttachPolicy", resource("policy", policy))],
    mutating=True,
)
def attach_policy(ctx: RequestContext, principal: str, policy: str) -> PrincipalInfo:
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        policy_id = session.scalar(sa.select(t.Policy.id).where(t.Policy.name == policy))
        if policy_id is None:
            raise NotFound(f"policy {policy!r} does not exist", field="policy")
        if session.get(t.PrincipalPolicy, (row.id, policy_id)) is None:
            session.add(t.PrincipalPolicy(principal_id=row.id, policy_id=policy_id))
            bump_generation(session)
            session.flush()
        return principal_info(session, row)


@operation(
    "iam:DetachPolicy",
    lambda principal: resource("principal", principal),
    uses=lambda policy: [Access("iam:DetachPolicy", resource("policy", policy))],
    mutating=True,
)
def detach_policy(ctx: RequestContext, principal: str, policy: str) -> PrincipalInfo:
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        policy_id = session.scalar(sa.select(t.Policy.id).where(t.Policy.name == policy))
        link = session.get(t.PrincipalPolicy, (row.id, policy_id)) if policy_id else None
        if link is None:
            raise NotFound(f"policy {policy!r} is not attached to {principal!r}", field="policy")
        session.delete(link)
        bump_generation(session)
        session.flush()
        return principal_info(session, row)
