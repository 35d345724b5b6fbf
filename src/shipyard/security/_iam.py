"""Principals, API keys and policies: the IAM service, and authentication of a key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.clock import utcnow
from shipyard.errors import Conflict, NotFound, Unauthenticated
from shipyard.names import check_name, resource
from shipyard.platform import Platform
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.schemas.security import ApiKeyInfo, PolicyInfo, PrincipalInfo
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._key_use import KeyUse
from shipyard.security._keys import IssuedKey, issue_key, parse_bearer, secret_matches
from shipyard.security._operation import operation
from shipyard.security._policy import BUILTIN_POLICIES, PolicyDocument
from shipyard.security._resources import Access, ResourceName
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import tables as t

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


def _principal_info(session: Session, row: t.Principal) -> PrincipalInfo:
    return PrincipalInfo(
        name=row.name,
        kind=row.kind,
        disabled=row.disabled,
        created_at=row.created_at,
        policies=_policy_names(session, row.id),
    )


def _policies_of(session: Session, principal_id: int) -> tuple[PolicyDocument, ...]:
    query = (
        sa.select(t.Policy.document)
        .join(t.PrincipalPolicy, t.PrincipalPolicy.policy_id == t.Policy.id)
        .where(t.PrincipalPolicy.principal_id == principal_id)
    )
    return tuple(PolicyDocument.model_validate(doc) for doc in session.scalars(query))


def bootstrap(platform: Platform) -> None:
    """Create the built-in policies and the local admin principal if they are missing."""
    with platform.db.session() as session:
        for name, document in BUILTIN_POLICIES.items():
            if session.scalar(sa.select(t.Policy.id).where(t.Policy.name == name)) is None:
                session.add(t.Policy(name=name, document=document.model_dump(exclude_none=True)))
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
                t.ApiKey.principal_id == admin.id, t.ApiKey.revoked_at.is_(None)
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
    ctx = RequestContext(platform=platform, principal=principal, policies=policies)
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
        name = row[1].name
    if key_use is not None:
        key_use.note(key_id)
    ctx = RequestContext(platform=platform, principal=name, policies=policies)
    if request_id:
        ctx.request_id = request_id
    return ctx


def _principal_resource(name: str) -> str:
    return resource("principal", name)


@operation("iam:CreatePrincipal", _principal_resource, mutating=True)
def create_principal(ctx: RequestContext, name: str, kind: str = "user") -> PrincipalInfo:
    """Create a user or service principal with no policies (it may do nothing yet)."""
    check_name(name)
    if kind not in ("user", "service"):
        raise Conflict("kind must be 'user' or 'service'", field="kind")
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Principal.id).where(t.Principal.name == name)) is not None:
            raise Conflict(f"principal {name!r} already exists", field="name")
        row = t.Principal(name=name, kind=kind)
        session.add(row)
        session.flush()
        return _principal_info(session, row)


@operation("iam:ListPrincipals", lambda: resource("principal"), mutating=False)
def list_principals(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[PrincipalInfo]:
    """Principals by name, a page at a time, with their policies."""
    keyset = Keyset("principals", t.Principal.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(t.Principal))).all()
        found, token = keyset.page(rows, lambda p: p.name)
        items = [_principal_info(session, row) for row in found]
    return Page[PrincipalInfo](items=items, next_page_token=token)


@operation("iam:CreateApiKey", lambda principal: resource("principal", principal), mutating=True)
def create_api_key(ctx: RequestContext, principal: str) -> ApiKeyInfo:
    """Issue a key for a principal; the token is in this answer and nowhere else, ever."""
    key = issue_key()
    with ctx.platform.db.session() as session:
        row = _principal(session, principal)
        record = t.ApiKey(
            key_id=key.key_id,
            principal_id=row.id,
            secret_hash=key.secret_hash,
            created_by=ctx.principal,
        )
        session.add(record)
        session.flush()
        info = _key_info(record, principal)
        info.token = key.token
        return info


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


def _key_info(key: t.ApiKey, principal: str) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=key.key_id,
        principal=principal,
        created_at=key.created_at,
        revoked=key.revoked_at is not None,
        revoked_at=key.revoked_at,
        created_by=key.created_by,
        last_used_at=key.last_used_at,
    )


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
    """Create or replace a named policy document (built-in policies cannot be replaced).

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
        else:
            row.document = parsed
        bump_generation(session)
        session.flush()
        return PolicyInfo(name=row.name, document=row.document, created_at=row.created_at)


@operation("iam:ListPolicies", lambda: resource("policy"), mutating=False)
def list_policies(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[PolicyInfo]:
    """Policies by name, a page at a time, with their documents."""
    keyset = Keyset("policies", t.Policy.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(t.Policy))).all()
        found, token = keyset.page(rows, lambda p: p.name)
        items = [
            PolicyInfo(name=r.name, document=r.document, created_at=r.created_at) for r in found
        ]
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
        return _principal_info(session, row)


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
        return _principal_info(session, row)
