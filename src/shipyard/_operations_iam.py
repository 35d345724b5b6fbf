"""The catalog's entries for identity and access: principals, keys, policies and the audit
log (``operations.py`` holds the rest and the whole catalog)."""

from __future__ import annotations

from shipyard._operation import Operation

_V1 = "/api/v1"

IAM_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "iam.create_principal",
        "POST",
        f"{_V1}/principals",
        "shipyard.security:create_principal",
        201,
    ),
    Operation(
        "iam.list_principals", "GET", f"{_V1}/principals", "shipyard.security:list_principals"
    ),
    Operation(
        "iam.create_api_key",
        "POST",
        f"{_V1}/principals/{{principal}}/keys",
        "shipyard.security:create_api_key",
        201,
    ),
    Operation(
        "iam.list_api_keys",
        "GET",
        f"{_V1}/principals/{{principal}}/keys",
        "shipyard.security:list_api_keys",
    ),
    Operation(
        "iam.revoke_api_key", "DELETE", f"{_V1}/keys/{{key_id}}", "shipyard.security:revoke_api_key"
    ),
    Operation("iam.put_policy", "PUT", f"{_V1}/policies/{{name}}", "shipyard.security:put_policy"),
    Operation("iam.list_policies", "GET", f"{_V1}/policies", "shipyard.security:list_policies"),
    Operation(
        "iam.attach_policy",
        "POST",
        f"{_V1}/principals/{{principal}}/policies",
        "shipyard.security:attach_policy",
    ),
    Operation(
        "iam.detach_policy",
        "DELETE",
        f"{_V1}/principals/{{principal}}/policies/{{policy}}",
        "shipyard.security:detach_policy",
    ),
    Operation(
        "iam.get_principal_limits",
        "GET",
        f"{_V1}/principals/{{principal}}/limits",
        "shipyard.security:get_principal_limits",
    ),
    Operation(
        "iam.put_principal_limits",
        "PUT",
        f"{_V1}/principals/{{principal}}/limits",
        "shipyard.security:put_principal_limits",
    ),
    Operation("audit.list_events", "GET", f"{_V1}/audit", "shipyard.security:list_audit_events"),
    Operation(
        "audit.verify_log", "POST", f"{_V1}/audit/verify", "shipyard.security:verify_audit_log"
    ),
    Operation(
        "audit.export_log", "GET", f"{_V1}/audit/export", "shipyard.security:export_audit_log"
    ),
)
