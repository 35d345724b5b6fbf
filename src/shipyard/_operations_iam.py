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
        "iam.disable_principal",
        "POST",
        f"{_V1}/principals/{{principal}}/disable",
        "shipyard.security:disable_principal",
    ),
    Operation(
        "iam.enable_principal",
        "POST",
        f"{_V1}/principals/{{principal}}/enable",
        "shipyard.security:enable_principal",
    ),
    Operation(
        "iam.put_principal_boundary",
        "PUT",
        f"{_V1}/principals/{{principal}}/boundary",
        "shipyard.security:put_principal_boundary",
    ),
    Operation(
        "iam.delete_principal_boundary",
        "DELETE",
        f"{_V1}/principals/{{principal}}/boundary",
        "shipyard.security:delete_principal_boundary",
    ),
    Operation(
        "iam.delete_principal",
        "DELETE",
        f"{_V1}/principals/{{principal}}",
        "shipyard.security:delete_principal",
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
        "iam.list_policy_versions",
        "GET",
        f"{_V1}/policies/{{name}}/versions",
        "shipyard.security:list_policy_versions",
    ),
    Operation(
        "iam.set_default_policy_version",
        "PUT",
        f"{_V1}/policies/{{name}}/default-version",
        "shipyard.security:set_default_policy_version",
    ),
    Operation(
        "iam.delete_policy", "DELETE", f"{_V1}/policies/{{name}}", "shipyard.security:delete_policy"
    ),
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
    Operation("iam.create_group", "POST", f"{_V1}/groups", "shipyard.security:create_group", 201),
    Operation("iam.list_groups", "GET", f"{_V1}/groups", "shipyard.security:list_groups"),
    Operation(
        "iam.delete_group", "DELETE", f"{_V1}/groups/{{group}}", "shipyard.security:delete_group"
    ),
    Operation(
        "iam.add_group_member",
        "POST",
        f"{_V1}/groups/{{group}}/members",
        "shipyard.security:add_group_member",
    ),
    Operation(
        "iam.remove_group_member",
        "DELETE",
        f"{_V1}/groups/{{group}}/members/{{principal}}",
        "shipyard.security:remove_group_member",
    ),
    Operation(
        "iam.attach_group_policy",
        "POST",
        f"{_V1}/groups/{{group}}/policies",
        "shipyard.security:attach_group_policy",
    ),
    Operation(
        "iam.detach_group_policy",
        "DELETE",
        f"{_V1}/groups/{{group}}/policies/{{policy}}",
        "shipyard.security:detach_group_policy",
    ),
    Operation("iam.create_role", "POST", f"{_V1}/roles", "shipyard.security:create_role", 201),
    Operation(
        "iam.assume_role",
        "POST",
        f"{_V1}/roles/{{role}}/sessions",
        "shipyard.security:assume_role",
        201,
    ),
    Operation("audit.list_events", "GET", f"{_V1}/audit", "shipyard.security:list_audit_events"),
    Operation(
        "audit.verify_log", "POST", f"{_V1}/audit/verify", "shipyard.security:verify_audit_log"
    ),
    Operation(
        "audit.export_log", "GET", f"{_V1}/audit/export", "shipyard.security:export_audit_log"
    ),
    Operation(
        "audit.public_key", "GET", f"{_V1}/audit/public-key", "shipyard.security:audit_public_key"
    ),
    Operation(
        "iam.revoke_certificate",
        "POST",
        f"{_V1}/certificates/revocations",
        "shipyard.security:revoke_certificate",
        201,
    ),
    Operation(
        "iam.list_revoked_certificates",
        "GET",
        f"{_V1}/certificates/revocations",
        "shipyard.security:list_revoked_certificates",
    ),
    Operation(
        "encryption.rotate_keys",
        "POST",
        f"{_V1}/encryption/rotations",
        "shipyard.security:rotate_encryption_keys",
    ),
)

# Tags: on principals (iam) and on resources, each kind under its own service's actions.
_TAGGED = (
    ("iam", "principal", "principals/{principal}"),
    ("registry", "model", "models/{name}"),
    ("datasets", "dataset", "datasets/{name}"),
    ("endpoints", "endpoint", "endpoints/{name}"),
    ("tracking", "experiment", "experiments/{name}"),
)
TAG_OPERATIONS: tuple[Operation, ...] = tuple(
    entry
    for service, kind, path in _TAGGED
    for entry in (
        Operation(
            f"{service}.tag_{kind}",
            "PUT",
            f"{_V1}/{path}/tags",
            f"shipyard.security:tag_{kind}",
        ),
        Operation(
            f"{service}.untag_{kind}",
            "DELETE",
            f"{_V1}/{path}/tags",
            f"shipyard.security:untag_{kind}",
        ),
        Operation(
            f"{service}.list_{kind}_tags",
            "GET",
            f"{_V1}/{path}/tags",
            f"shipyard.security:list_{kind}_tags",
        ),
    )
)
