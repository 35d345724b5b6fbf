"""What the security service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, computed_field


class PrincipalInfo(BaseModel):
    name: str
    kind: str
    disabled: bool
    created_at: datetime
    policies: list[str]

    @property
    def resource(self) -> str:
        return f"sy:principal/{self.name}"


class ApiKeyInfo(BaseModel):
    """A key's public part; ``token`` is filled only in the answer that created it."""

    key_id: str
    principal: str
    created_at: datetime
    revoked: bool
    token: str | None = None
    revoked_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prefix(self) -> str:
        """How the token begins (``sy_<key id>_``): enough to recognise it, never to use it."""
        return f"sy_{self.key_id}_"


class PolicyInfo(BaseModel):
    name: str
    document: dict[str, Any]
    created_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:policy/{self.name}"


class AuditEventInfo(BaseModel):
    id: int
    time: datetime
    principal: str
    action: str
    resource: str
    outcome: str
    request_id: str
    detail: dict[str, Any]
