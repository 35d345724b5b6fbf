"""What the security service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import computed_field

from shipyard.schemas._base import WireModel


class PrincipalInfo(WireModel):
    name: str
    kind: str
    disabled: bool
    created_at: datetime
    policies: list[str]
    tags: dict[str, str] = {}
    boundary: str | None = None
    trust_policy: dict[str, Any] | None = None

    @property
    def resource(self) -> str:
        return f"sy:principal/{self.name}"


class PrincipalLimits(WireModel):
    """A principal's request limits (its own, or the settings' defaults when ``own`` is
    false; None: no limit) and the requests it made today over both planes."""

    principal: str
    requests_per_second: float | None
    burst: int | None
    daily_quota: int | None
    own: bool
    requests_today: int
    updated_by: str | None = None
    updated_at: datetime | None = None


class ApiKeyInfo(WireModel):
    """A key's public part; ``token`` is filled only in the answer that created it."""

    key_id: str
    principal: str
    created_at: datetime
    revoked: bool
    token: str | None = None
    revoked_at: datetime | None = None
    created_by: str | None = None
    """The principal who issued it (None when not recorded: older keys, the first admin key)."""
    last_used_at: datetime | None = None
    """When it last authenticated a request, to within a minute (None: never used)."""
    expires_at: datetime | None = None
    assumed_by: str | None = None
    """For a role's session key: who assumed the role."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prefix(self) -> str:
        """How the token begins (``sy_<key id>_``): enough to recognise it, never to use it."""
        return f"sy_{self.key_id}_"


class PolicyInfo(WireModel):
    name: str
    document: dict[str, Any]
    created_at: datetime
    default_version: int | None = None

    @property
    def resource(self) -> str:
        return f"sy:policy/{self.name}"


class TagSet(WireModel):
    """The tags on one principal or resource, by key."""

    resource: str
    tags: dict[str, str]


class PolicyVersionInfo(WireModel):
    """One document a policy has held; ``default`` is the one checks read."""

    policy: str
    version: int
    document: dict[str, Any]
    created_at: datetime
    created_by: str
    default: bool

    @property
    def resource(self) -> str:
        return f"sy:policy/{self.policy}"


class GroupInfo(WireModel):
    """A group, its members and the policies they hold through it."""

    name: str
    created_at: datetime
    members: list[str]
    policies: list[str]

    @property
    def resource(self) -> str:
        return f"sy:group/{self.name}"


class AuditEventInfo(WireModel):
    id: int
    time: datetime
    principal: str
    action: str
    resource: str
    outcome: str
    request_id: str
    detail: dict[str, Any]


class AuditChainEvent(WireModel):
    """A sealed audit event as the chain hashes it (``time`` in its canonical UTC text)."""

    seq: int
    id: int
    time: str
    principal: str
    action: str
    resource: str
    outcome: str
    request_id: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


class AuditCheckpointInfo(WireModel):
    """A signed statement: the chain had ``seq`` events, the last one hashing to ``hash``."""

    seq: int
    hash: str
    time: str
    key_id: str
    signature: str


class AuditProblem(WireModel):
    """The first place the chain is broken: the event's seq (and id when it exists)."""

    seq: int
    event_id: int | None
    problem: str


class AuditVerification(WireModel):
    """The verdict on the audit log: every sealed event and every checkpoint checked."""

    ok: bool
    events: int
    """Sealed events found intact: all of them, or those before the first bad one."""
    unsealed: int
    """Events stored but not yet chained (written after the last sealing)."""
    checkpoints: int
    last_checkpoint: AuditCheckpointInfo | None
    first_bad: AuditProblem | None
    key_id: str
    """The fingerprint of the public key the checkpoints were checked against."""


class AuditExportPage(WireModel):
    """A page of the sealed log in seq order, the checkpoints within it, and the public key."""

    events: list[AuditChainEvent]
    checkpoints: list[AuditCheckpointInfo]
    public_key: str
    """The checkpoint signing key, PEM (SubjectPublicKeyInfo)."""
    next_seq: int | None
    """Pass as ``after_seq`` for the next page; None on the last."""


class MatchedStatement(WireModel):
    """A statement that applies to the request: its policy, position, Sid and effect."""

    policy: str
    index: int
    sid: str | None
    effect: str


class UnmetCondition(WireModel):
    """A statement that names the action and resource but did not apply: the first of its
    condition clauses that does not hold (``StringEquals sy:PrincipalTag/team ['ml']``)."""

    policy: str
    index: int
    sid: str | None
    effect: str
    condition: str


class Simulation(WireModel):
    """The decision (``allow``, ``explicit_deny`` or ``default_deny``), the statement that
    made it (None for a default deny), every statement that applied, the statements whose
    condition failed, and the condition keys the request was simulated with."""

    principal: str
    action: str
    resource: str
    decision: str
    deciding: MatchedStatement | None
    matched: list[MatchedStatement]
    unmet: list[UnmetCondition] = []
    context: dict[str, str | list[str]] = {}
    boundary: str | None = None
    """The principal's permission boundary; its statements are listed with the others."""


class AuditPublicKey(WireModel):
    """The checkpoint-signing public key, for an auditor to verify exports offline."""

    public_key: str
    """PEM (SubjectPublicKeyInfo), Ed25519."""
    key_id: str
    """Its fingerprint, as verdicts name it."""


class KeyRotation(WireModel):
    """What an encryption key rotation did: the KEK every object is now wrapped under, how
    many data keys were re-wrapped and from which KEKs, and which KEKs objects use now."""

    resource: str
    kek: str
    rewrapped: int
    previous: dict[str, int]
    """Objects re-wrapped, by the KEK they were under."""
    plaintext: int
    resumed: bool
    """Whether this run finished a rotation that was interrupted."""
    in_use: dict[str, int]
    removed: list[str]
    seconds: float

    def audit_detail(self) -> dict[str, object]:
        """What the audit log records of a rotation."""
        return {
            "kek": self.kek,
            "rewrapped": self.rewrapped,
            "previous": self.previous,
            "resumed": self.resumed,
            "in_use": self.in_use,
            "removed": self.removed,
        }


class RevokedCertificateInfo(WireModel):
    """A revoked client certificate: its serial (lowercase hex), whom it named, and why."""

    serial: str
    principal: str | None
    reason: str
    revoked_by: str
    revoked_at: datetime
    resource: str
