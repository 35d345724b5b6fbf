"""Roles: principals of kind "role" that nobody holds a long-lived key for. A principal
named in the role's trust policy assumes it for a session (up to 12 hours) and gets a
key that expires; what the session may do is the role's policies (and boundary).

A trust policy says who may assume the role::

    {"Statement": [{"Effect": "Allow", "Principal": ["ann", "ci-*"],
                    "Condition": {"IpAddress": {"sy:SourceIp": "192.168.0.0/16"}}}]}

``Principal`` takes name patterns (``*``, ``?``); a matching Deny wins; the condition sees
the assuming request (its address, time, the caller's tags).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied, Conflict, InvalidInput, NotFound
from shipyard.names import check_name, resource
from shipyard.schemas.security import ApiKeyInfo, PrincipalInfo
from shipyard.security._conditions import (
    CompiledCondition,
    ConditionError,
    compile_condition,
    glob_match,
)
from shipyard.security._context import RequestContext
from shipyard.security._keys import issue_key
from shipyard.security._operation import operation
from shipyard.security._resources import ResourceName
from shipyard.store.metadata import tables as t

MAX_SESSION = timedelta(hours=12)


class TrustStatement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Principal: list[str] = Field(min_length=1)
    Condition: dict[str, Any] | None = None

    _condition: CompiledCondition | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> TrustStatement:
        if self.Condition is not None:
            try:
                self._condition = compile_condition(self.Condition)
            except ConditionError as exc:
                raise ValueError(f"Condition.{exc.field}: {exc}") from None
        return self


class TrustPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    Statement: list[TrustStatement] = Field(min_length=1)

    @classmethod
    def parse(cls, document: object) -> TrustPolicy:
        try:
            parsed = cls.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(["trust_policy", *(str(p) for p in first["loc"])])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise InvalidInput(message, field=where) from None
        for i, statement in enumerate(parsed.Statement):
            unknown = statement._condition.check_keys() if statement._condition else None
            if unknown is not None:
                raise InvalidInput(unknown[0], field=f"trust_policy.Statement.{i}.{unknown[1]}")
        return parsed

    def trusts(self, ctx: RequestContext) -> bool:
        """Whether the caller of ``ctx`` may assume the role: an Allow applies, no Deny does."""
        facts = ctx.facts(ResourceName(resource("principal", ctx.principal)))
        allowed = False
        for statement in self.Statement:
            named = any(glob_match(p, ctx.principal) for p in statement.Principal)
            holds = statement._condition is None or statement._condition.holds(facts)
            if named and holds:
                if statement.Effect == "Deny":
                    return False
                allowed = True
        return allowed


def _role_resource(role: str) -> str:
    return resource("principal", role)


@operation("iam:CreateRole", lambda role: _role_resource(role), mutating=True)
def create_role(ctx: RequestContext, role: str, trust_policy: dict[str, Any]) -> PrincipalInfo:
    """Create a role: a principal of kind "role" with a trust policy and no policies yet."""
    from shipyard.security._iam import principal_info

    check_name(role, field="role")
    trust = TrustPolicy.parse(trust_policy).model_dump(exclude_none=True)
    with ctx.platform.db.session() as session:
        if session.scalar(sa.select(t.Principal.id).where(t.Principal.name == role)) is not None:
            raise Conflict(f"principal {role!r} already exists", field="role")
        row = t.Principal(name=role, kind="role", trust_policy=trust)
        session.add(row)
        session.flush()
        return principal_info(session, row)


def _session_length(duration: str) -> timedelta:
    from shipyard.security._iam import key_lifetime

    try:
        length = key_lifetime(duration)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="duration") from None
    if length > MAX_SESSION:
        raise InvalidInput("a role session lasts at most 12h", field="duration")
    return length


@operation("iam:AssumeRole", lambda role: _role_resource(role), mutating=True)
def assume_role(ctx: RequestContext, role: str, duration: str = "1h") -> ApiKeyInfo:
    """Start a session as ``role``: a key that expires after ``duration`` (``"15m"`` to
    ``"12h"``), issued only when the role's trust policy names the caller. The caller's
    own policies must allow ``iam:AssumeRole`` on ``sy:principal/<role>`` too."""
    length = _session_length(duration)
    with ctx.platform.db.session() as session:
        row = session.scalar(sa.select(t.Principal).where(t.Principal.name == role))
        if row is None or row.kind != "role":
            raise NotFound(f"role {role!r} does not exist", field="role")
        if row.disabled:
            raise Conflict(f"role {role!r} is disabled", field="role")
        trust = TrustPolicy.model_validate(row.trust_policy or {"Statement": []})
    if not trust.trusts(ctx):
        raise AccessDenied(f"the trust policy of role {role!r} does not name {ctx.principal}")
    key = issue_key()
    expires_at = utcnow() + length
    with ctx.platform.db.session() as session:
        record = t.ApiKey(
            key_id=key.key_id,
            principal_id=row.id,
            secret_hash=key.secret_hash,
            expires_at=expires_at,
            assumed_by=ctx.principal,
        )
        session.add(record)
        session.flush()
        return ApiKeyInfo(
            key_id=key.key_id,
            principal=role,
            created_at=record.created_at,
            revoked=False,
            expires_at=expires_at,
            token=key.token,
            assumed_by=ctx.principal,
        )
