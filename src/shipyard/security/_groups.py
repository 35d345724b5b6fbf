"""Groups: principals belong to groups, and a member holds the policies attached to its
groups as if attached to itself (a permission boundary still caps them)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.paging import DEFAULT_LIMIT, Page
from shipyard.schemas.security import GroupInfo
from shipyard.security._context import RequestContext
from shipyard.security._generation import bump_generation
from shipyard.security._operation import operation
from shipyard.security._resources import Access
from shipyard.store.metadata import Keyset
from shipyard.store.metadata import group_tables as gt
from shipyard.store.metadata import tables as t


def _group_resource(group: str) -> str:
    return resource("group", group)


def _group(session: Session, name: str) -> gt.Group:
    row = session.scalar(sa.select(gt.Group).where(gt.Group.name == name))
    if row is None:
        raise NotFound(f"group {name!r} does not exist", field="group")
    return row


def _id_of(session: Session, table: type[t.Principal] | type[t.Policy], name: str) -> int:
    found = session.scalar(sa.select(table.id).where(table.name == name))
    if found is None:
        noun = "principal" if table is t.Principal else "policy"
        raise NotFound(f"{noun} {name!r} does not exist", field=noun)
    return found


def _info(session: Session, row: gt.Group) -> GroupInfo:
    members = session.scalars(
        sa.select(t.Principal.name)
        .join(gt.GroupMember, gt.GroupMember.principal_id == t.Principal.id)
        .where(gt.GroupMember.group_id == row.id)
        .order_by(t.Principal.name)
    )
    policies = session.scalars(
        sa.select(t.Policy.name)
        .join(gt.GroupPolicy, gt.GroupPolicy.policy_id == t.Policy.id)
        .where(gt.GroupPolicy.group_id == row.id)
        .order_by(t.Policy.name)
    )
    return GroupInfo(
        name=row.name, created_at=row.created_at, members=list(members), policies=list(policies)
    )


def group_policy_documents(session: Session, principal_id: int) -> list[dict[str, object]]:
    """The documents of every policy attached to a group the principal belongs to."""
    return list(
        session.scalars(
            sa.select(t.Policy.document)
            .join(gt.GroupPolicy, gt.GroupPolicy.policy_id == t.Policy.id)
            .join(gt.GroupMember, gt.GroupMember.group_id == gt.GroupPolicy.group_id)
            .where(gt.GroupMember.principal_id == principal_id)
        )
    )


@operation("iam:CreateGroup", lambda group: _group_resource(group), mutating=True)
def create_group(ctx: RequestContext, group: str) -> GroupInfo:
    """Create an empty group."""
    check_name(group, field="group")
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(gt.Group.id).where(gt.Group.name == group)) is not None:
            raise Conflict(f"group {group!r} already exists", field="group")
        row = gt.Group(name=group)
        session.add(row)
        session.flush()
        return _info(session, row)


@operation("iam:ListGroups", lambda: resource("group"), mutating=False)
def list_groups(
    ctx: RequestContext, limit: int = DEFAULT_LIMIT, page_token: str | None = None
) -> Page[GroupInfo]:
    """Groups by name, a page at a time, with their members and policies."""
    keyset = Keyset("groups", gt.Group.name, limit, page_token)
    with ctx.platform.db.session() as session:
        rows = session.scalars(keyset.apply(sa.select(gt.Group))).all()
        found, token = keyset.page(rows, lambda g: g.name)
        items = [_info(session, row) for row in found]
    return Page[GroupInfo](items=items, next_page_token=token)


@operation("iam:DeleteGroup", lambda group: _group_resource(group), mutating=True)
def delete_group(ctx: RequestContext, group: str) -> GroupInfo:
    """Delete a group: its members lose its policies at once."""
    with ctx.platform.db.session() as session:
        row = _group(session, group)
        info = _info(session, row)
        for table in (gt.GroupMember, gt.GroupPolicy):
            session.execute(sa.delete(table).where(table.group_id == row.id))
        session.delete(row)
        bump_generation(session)
        return info


@operation(
    "iam:AddPrincipalToGroup",
    lambda group: _group_resource(group),
    uses=lambda principal: [Access("iam:AddPrincipalToGroup", resource("principal", principal))],
    mutating=True,
)
def add_group_member(ctx: RequestContext, group: str, principal: str) -> GroupInfo:
    """Add a principal to a group (it gets the group's policies): checked on the group and
    on the principal, whose permissions it changes."""
    with ctx.platform.db.session() as session:
        row = _group(session, group)
        principal_id = _id_of(session, t.Principal, principal)
        if session.get(gt.GroupMember, (row.id, principal_id)) is None:
            session.add(gt.GroupMember(group_id=row.id, principal_id=principal_id))
            bump_generation(session)
            session.flush()
        return _info(session, row)


@operation(
    "iam:RemovePrincipalFromGroup",
    lambda group: _group_resource(group),
    uses=lambda principal: [
        Access("iam:RemovePrincipalFromGroup", resource("principal", principal))
    ],
    mutating=True,
)
def remove_group_member(ctx: RequestContext, group: str, principal: str) -> GroupInfo:
    with ctx.platform.db.session() as session:
        row = _group(session, group)
        principal_id = _id_of(session, t.Principal, principal)
        link = session.get(gt.GroupMember, (row.id, principal_id))
        if link is None:
            raise NotFound(f"{principal!r} is not in group {group!r}", field="principal")
        session.delete(link)
        bump_generation(session)
        session.flush()
        return _info(session, row)


@operation(
    "iam:AttachGroupPolicy",
    lambda group: _group_resource(group),
    uses=lambda policy: [Access("iam:AttachGroupPolicy", resource("policy", policy))],
    mutating=True,
)
def attach_group_policy(ctx: RequestContext, group: str, policy: str) -> GroupInfo:
    with ctx.platform.db.session() as session:
        row = _group(session, group)
        policy_id = _id_of(session, t.Policy, policy)
        if session.get(gt.GroupPolicy, (row.id, policy_id)) is None:
            session.add(gt.GroupPolicy(group_id=row.id, policy_id=policy_id))
            bump_generation(session)
            session.flush()
        return _info(session, row)


@operation(
    "iam:DetachGroupPolicy",
    lambda group: _group_resource(group),
    uses=lambda policy: [Access("iam:DetachGroupPolicy", resource("policy", policy))],
    mutating=True,
)
def detach_group_policy(ctx: RequestContext, group: str, policy: str) -> GroupInfo:
    with ctx.platform.db.session() as session:
        row = _group(session, group)
        policy_id = _id_of(session, t.Policy, policy)
        link = session.get(gt.GroupPolicy, (row.id, policy_id))
        if link is None:
            raise NotFound(f"policy {policy!r} is not attached to {group!r}", field="policy")
        session.delete(link)
        bump_generation(session)
        session.flush()
        return _info(session, row)
