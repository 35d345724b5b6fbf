"""Policy versions, default version and deletion: a policy keeps every document it held,
one of them the default (the one checks read); rolling back is setting an older default."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, NotFound
from shipyard.names import resource
from shipyard.schemas.security import PolicyInfo, PolicyVersionInfo
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._operation import operation
from shipyard.security._policy import BUILTIN_POLICIES
from shipyard.store.metadata import group_tables as gt
from shipyard.store.metadata import tables as t


def record_version(session: Session, row: t.Policy, document: dict[str, Any], by: str) -> None:
    """Store ``document`` as the policy's next version and make it the default (a policy
    stored before versions existed first gets its current document as version 1)."""
    session.flush()
    latest = session.scalar(
        sa.select(sa.func.max(t.PolicyVersion.version)).where(t.PolicyVersion.policy_id == row.id)
    )
    if latest is None and row.default_version is None and row.document != document:
        session.add(t.PolicyVersion(policy_id=row.id, version=1, document=row.document))
        latest = 1
    number = (latest or 0) + 1
    session.add(t.PolicyVersion(policy_id=row.id, version=number, document=document, created_by=by))
    row.document = document
    row.default_version = number


def policy_info(row: t.Policy) -> PolicyInfo:
    return PolicyInfo(
        name=row.name,
        document=row.document,
        created_at=row.created_at,
        default_version=row.default_version,
    )


def _policy(session: Session, name: str) -> t.Policy:
    row = session.scalar(sa.select(t.Policy).where(t.Policy.name == name))
    if row is None:
        raise NotFound(f"policy {name!r} does not exist", field="name")
    return row


def _policy_resource(name: str) -> str:
    return resource("policy", name)


@operation("iam:ListPolicyVersions", lambda name: _policy_resource(name), mutating=False)
def list_policy_versions(ctx: RequestContext, name: str) -> list[PolicyVersionInfo]:
    """Every version of a policy, oldest first, the default marked."""
    with ctx.platform.db.session() as session:
        row = _policy(session, name)
        versions = session.scalars(
            sa.select(t.PolicyVersion)
            .where(t.PolicyVersion.policy_id == row.id)
            .order_by(t.PolicyVersion.version)
        )
        return [
            PolicyVersionInfo(
                policy=name,
                version=v.version,
                document=v.document,
                created_at=v.created_at,
                created_by=v.created_by,
                default=v.version == row.default_version,
            )
            for v in versions
        ]


@operation("iam:SetDefaultPolicyVersion", lambda name: _policy_resource(name), mutating=True)
def set_default_policy_version(ctx: RequestContext, name: str, version: int) -> PolicyInfo:
    """Make an earlier (or later) version the one every check reads: a roll back or forward."""
    if name in BUILTIN_POLICIES:
        raise Conflict(f"policy {name!r} is built in and cannot change", field="name")
    with ctx.platform.db.session() as session:
        row = _policy(session, name)
        found = session.scalar(
            sa.select(t.PolicyVersion).where(
                t.PolicyVersion.policy_id == row.id, t.PolicyVersion.version == version
            )
        )
        if found is None:
            raise NotFound(f"policy {name!r} has no version {version}", field="version")
        if row.default_version != version:
            row.document = found.document
            row.default_version = version
            bump_generation(session)
            session.flush()
        return policy_info(row)


@operation("iam:DeletePolicy", lambda name: _policy_resource(name), mutating=True)
def delete_policy(ctx: RequestContext, name: str) -> PolicyInfo:
    """Delete a policy and its versions. Refused while it is attached to a principal or is
    one's permission boundary (removing a boundary by deleting it would lift the cap)."""
    if name in BUILTIN_POLICIES:
        raise Conflict(f"policy {name!r} is built in and cannot be deleted", field="name")
    with ctx.platform.db.session() as session:
        row = _policy(session, name)
        users = sorted(
            session.scalars(
                sa.select(t.Principal.name)
                .outerjoin(t.PrincipalPolicy, t.PrincipalPolicy.principal_id == t.Principal.id)
                .where(
                    sa.or_(
                        t.PrincipalPolicy.policy_id == row.id,
                        t.Principal.boundary_policy_id == row.id,
                    )
                )
                .distinct()
            )
        )
        users += sorted(
            f"group {g}"
            for g in session.scalars(
                sa.select(gt.Group.name)
                .join(gt.GroupPolicy, gt.GroupPolicy.group_id == gt.Group.id)
                .where(gt.GroupPolicy.policy_id == row.id)
            )
        )
        if users:
            raise Conflict(
                f"policy {name!r} is attached to, or the boundary of: {', '.join(users[:5])}"
                + (" ..." if len(users) > 5 else "")
                + "; detach it first",
                field="name",
            )
        info = policy_info(row)
        session.execute(sa.delete(t.PolicyVersion).where(t.PolicyVersion.policy_id == row.id))
        session.delete(row)
        bump_generation(session)
        return info
