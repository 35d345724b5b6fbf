"""The SDK's IAM group: principals, keys, policies, groups, roles, tags and the audit log."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from shipyard.client._group import _Group
from shipyard.client._paging import Listing, fetch_listing
from shipyard.errors import InvalidInput
from shipyard.schemas.security import (
    ApiKeyInfo,
    AuditEventInfo,
    AuditExportPage,
    AuditPublicKey,
    AuditVerification,
    GroupInfo,
    PolicyInfo,
    PolicyVersionInfo,
    PrincipalInfo,
    PrincipalLimits,
    RevokedCertificateInfo,
    Simulation,
    TagSet,
)


class Iam(_Group):
    def create_principal(
        self, name: str, kind: str = "user", tags: dict[str, str] | None = None
    ) -> PrincipalInfo:
        """A new principal with no policies; ``tags`` also needs ``iam:TagPrincipal``."""
        extra = {"tags": tags} if tags else {}
        return PrincipalInfo.model_validate(
            self._t.call("iam.create_principal", name=name, kind=kind, **extra)
        )

    def list_principals(
        self, *, limit: int | None = None, page_token: str | None = None
    ) -> Listing[PrincipalInfo]:
        """Principals by name: every one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(self._t, "iam.list_principals", PrincipalInfo, limit, page_token)

    def get_principal_limits(self, principal: str) -> PrincipalLimits:
        """Its request rate, burst and daily quota, and the requests it made today."""
        found = self._t.call("iam.get_principal_limits", principal=principal)
        return PrincipalLimits.model_validate(found)

    def put_principal_limits(
        self,
        principal: str,
        *,
        requests_per_second: float | None = None,
        burst: int | None = None,
        daily_quota: int | None = None,
        clear: bool = False,
    ) -> PrincipalLimits:
        """Give it its own limits (None: unlimited in that respect); ``clear``: back to the
        settings' defaults. Over a limit, requests get 429 with ``Retry-After``."""
        found = self._t.call(
            "iam.put_principal_limits",
            principal=principal,
            requests_per_second=requests_per_second,
            burst=burst,
            daily_quota=daily_quota,
            clear=clear,
        )
        return PrincipalLimits.model_validate(found)

    def create_api_key(self, principal: str, expires_in: str | None = None) -> ApiKeyInfo:
        """A new key, living ``expires_in`` (``"30d"``, ``"12h"``) or until revoked; its
        ``token`` is shown in this answer only."""
        extra = {"expires_in": expires_in} if expires_in is not None else {}
        return ApiKeyInfo.model_validate(
            self._t.call("iam.create_api_key", principal=principal, **extra)
        )

    def disable_principal(self, principal: str) -> PrincipalInfo:
        """Stop a principal's keys and sessions at once (``enable_principal`` restores them)."""
        return PrincipalInfo.model_validate(
            self._t.call("iam.disable_principal", principal=principal)
        )

    def enable_principal(self, principal: str) -> PrincipalInfo:
        return PrincipalInfo.model_validate(
            self._t.call("iam.enable_principal", principal=principal)
        )

    def put_principal_boundary(self, principal: str, policy: str) -> PrincipalInfo:
        """Cap what ``principal``'s policies allow by ``policy`` (its permission boundary)."""
        return PrincipalInfo.model_validate(
            self._t.call("iam.put_principal_boundary", principal=principal, policy=policy)
        )

    def delete_principal_boundary(self, principal: str) -> PrincipalInfo:
        return PrincipalInfo.model_validate(
            self._t.call("iam.delete_principal_boundary", principal=principal)
        )

    def delete_principal(self, principal: str) -> PrincipalInfo:
        """Delete a principal with its keys, tags and attachments."""
        return PrincipalInfo.model_validate(
            self._t.call("iam.delete_principal", principal=principal)
        )

    def list_api_keys(
        self, principal: str, *, limit: int | None = None, page_token: str | None = None
    ) -> Listing[ApiKeyInfo]:
        """A principal's keys (revoked ones too), oldest first, with who issued each and
        when it was last used; no secret is ever returned."""
        return fetch_listing(
            self._t, "iam.list_api_keys", ApiKeyInfo, limit, page_token, principal=principal
        )

    def revoke_api_key(self, key_id: str) -> ApiKeyInfo:
        return ApiKeyInfo.model_validate(self._t.call("iam.revoke_api_key", key_id=key_id))

    def tag(self, resource: str, tags: dict[str, str]) -> TagSet:
        """Set tags on ``sy:principal/<name>``, ``sy:model/<name>``, ``sy:dataset/<name>``,
        ``sy:endpoint/<name>`` or ``sy:experiment/<name>`` (each under its service's
        ``TagResource`` action, a principal's under ``iam:TagPrincipal``)."""
        operation, argument = _tag_target(resource, "tag_{kind}")
        return TagSet.model_validate(self._t.call(operation, **argument, tags=tags))

    def untag(self, resource: str, keys: builtins.list[str]) -> TagSet:
        """Remove tags by key from a principal or resource (see ``tag``)."""
        operation, argument = _tag_target(resource, "untag_{kind}")
        return TagSet.model_validate(self._t.call(operation, **argument, keys=keys))

    def tags(self, resource: str) -> TagSet:
        """The tags on a principal or resource (see ``tag``)."""
        operation, argument = _tag_target(resource, "list_{kind}_tags")
        return TagSet.model_validate(self._t.call(operation, **argument))

    def simulate(
        self,
        principal: str,
        action: str,
        resource: str,
        context: dict[str, str | builtins.list[str]] | None = None,
    ) -> Simulation:
        """Would ``principal`` be allowed ``action`` on ``resource``, and which statement
        decides (evaluated exactly as a real request is, with the condition keys in
        ``context``, e.g. ``{"sy:SourceIp": "10.0.0.7"}``)."""
        return Simulation.model_validate(
            self._t.call(
                "iam.simulate",
                principal=principal,
                action=action,
                resource=resource,
                context=context,
            )
        )

    def put_policy(self, name: str, document: dict[str, Any]) -> PolicyInfo:
        return PolicyInfo.model_validate(
            self._t.call("iam.put_policy", name=name, document=document)
        )

    def list_policy_versions(self, name: str) -> builtins.list[PolicyVersionInfo]:
        """Every document policy ``name`` has held, oldest first, the default marked."""
        found = self._t.call("iam.list_policy_versions", name=name)
        return [PolicyVersionInfo.model_validate(v) for v in found]

    def set_default_policy_version(self, name: str, version: int) -> PolicyInfo:
        """Make ``version`` the one checks read (roll back or forward)."""
        return PolicyInfo.model_validate(
            self._t.call("iam.set_default_policy_version", name=name, version=version)
        )

    def delete_policy(self, name: str) -> PolicyInfo:
        """Delete a policy that no principal uses (attached or as a boundary)."""
        return PolicyInfo.model_validate(self._t.call("iam.delete_policy", name=name))

    def create_role(self, role: str, trust_policy: dict[str, Any]) -> PrincipalInfo:
        """A role: a principal nobody holds a lasting key for; ``trust_policy`` names who
        may assume it (``{"Statement": [{"Effect": "Allow", "Principal": ["ann"]}]}``)."""
        return PrincipalInfo.model_validate(
            self._t.call("iam.create_role", role=role, trust_policy=trust_policy)
        )

    def assume_role(self, role: str, duration: str = "1h") -> ApiKeyInfo:
        """A session as ``role``: a key (in ``token``) that expires after ``duration``."""
        return ApiKeyInfo.model_validate(
            self._t.call("iam.assume_role", role=role, duration=duration)
        )

    def create_group(self, group: str) -> GroupInfo:
        return GroupInfo.model_validate(self._t.call("iam.create_group", group=group))

    def list_groups(
        self, *, limit: int | None = None, page_token: str | None = None
    ) -> Listing[GroupInfo]:
        """Groups by name with members and policies: every one, or with ``limit``/``page_token``
        one page."""
        return fetch_listing(self._t, "iam.list_groups", GroupInfo, limit, page_token)

    def delete_group(self, group: str) -> GroupInfo:
        return GroupInfo.model_validate(self._t.call("iam.delete_group", group=group))

    def add_group_member(self, group: str, principal: str) -> GroupInfo:
        """Put ``principal`` in ``group``: it holds the group's policies."""
        return GroupInfo.model_validate(
            self._t.call("iam.add_group_member", group=group, principal=principal)
        )

    def remove_group_member(self, group: str, principal: str) -> GroupInfo:
        return GroupInfo.model_validate(
            self._t.call("iam.remove_group_member", group=group, principal=principal)
        )

    def attach_group_policy(self, group: str, policy: str) -> GroupInfo:
        return GroupInfo.model_validate(
            self._t.call("iam.attach_group_policy", group=group, policy=policy)
        )

    def detach_group_policy(self, group: str, policy: str) -> GroupInfo:
        return GroupInfo.model_validate(
            self._t.call("iam.detach_group_policy", group=group, policy=policy)
        )

    def list_policies(
        self, *, limit: int | None = None, page_token: str | None = None
    ) -> Listing[PolicyInfo]:
        """Policies by name: every one, or with ``limit``/``page_token`` one page."""
        return fetch_listing(self._t, "iam.list_policies", PolicyInfo, limit, page_token)

    def attach_policy(self, principal: str, policy: str) -> PrincipalInfo:
        return PrincipalInfo.model_validate(
            self._t.call("iam.attach_policy", principal=principal, policy=policy)
        )

    def detach_policy(self, principal: str, policy: str) -> PrincipalInfo:
        return PrincipalInfo.model_validate(
            self._t.call("iam.detach_policy", principal=principal, policy=policy)
        )

    def audit_events(
        self, *, principal: str | None = None, action: str | None = None, limit: int = 100
    ) -> builtins.list[AuditEventInfo]:
        return [
            AuditEventInfo.model_validate(e)
            for e in self._t.call(
                "audit.list_events", principal=principal, action=action, limit=limit
            )
        ]

    def verify_audit_log(self) -> AuditVerification:
        """Seal pending audit events, recompute the hash chain and check every signed
        checkpoint; ``ok`` is False and ``first_bad`` names the first bad event when broken."""
        return AuditVerification.model_validate(self._t.call("audit.verify_log"))

    def revoke_certificate(
        self, serial: str, reason: str, *, principal: str | None = None
    ) -> RevokedCertificateInfo:
        """Revoke a client certificate by serial number (hex); both servers refuse it."""
        return RevokedCertificateInfo.model_validate(
            self._t.call(
                "iam.revoke_certificate", serial=serial, reason=reason, principal=principal
            )
        )

    def revoked_certificates(self) -> builtins.list[RevokedCertificateInfo]:
        """Every revoked client certificate, the latest first."""
        return [
            RevokedCertificateInfo.model_validate(item)
            for item in self._t.call("iam.list_revoked_certificates")
        ]

    def audit_public_key(self) -> AuditPublicKey:
        """The audit checkpoints' signing public key (PEM) and its fingerprint: keep it
        apart from exports, and check them with ``shipyard audit verify --public-key``."""
        return AuditPublicKey.model_validate(self._t.call("audit.public_key"))

    def export_audit_log(self, out: str | os.PathLike[str]) -> AuditVerification:
        """Write the sealed audit log, its checkpoints and the public key to the directory
        ``out`` (``events.jsonl``, ``checkpoints.jsonl``, ``audit-signing.pub``) and return
        the export's offline verdict (what ``shipyard audit verify --from out`` prints)."""
        from shipyard.audit import verify_export, write_export_page

        directory, after, first = Path(out), 0, True
        while True:
            page = AuditExportPage.model_validate(
                self._t.call("audit.export_log", after_seq=after, limit=5000)
            )
            write_export_page(directory, page, first=first)
            if page.next_seq is None:
                return verify_export(directory)
            after, first = page.next_seq, False


_TAG_SERVICES = {
    "principal": "iam",
    "model": "registry",
    "dataset": "datasets",
    "endpoint": "endpoints",
    "experiment": "tracking",
}


def _tag_target(resource: str, verb: str) -> tuple[str, dict[str, str]]:
    """The catalog operation that tags ``resource`` (``sy:<kind>/<name>``), and its argument."""
    kind, slash, name = resource.removeprefix("sy:").partition("/")
    if not resource.startswith("sy:") or not slash or kind not in _TAG_SERVICES or "/" in name:
        kinds = ", ".join(f"sy:{k}/<name>" for k in _TAG_SERVICES)
        raise InvalidInput(f"tags go on {kinds}", field="resource")
    argument = "principal" if kind == "principal" else "name"
    return f"{_TAG_SERVICES[kind]}.{verb.format(kind=kind)}", {argument: name}
