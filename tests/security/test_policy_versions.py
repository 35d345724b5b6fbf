"""Policy versions: each put is a new default version; an older one can be made the default
again (a roll back) and takes effect at once; a policy in use cannot be deleted."""

from __future__ import annotations

import pytest

from shipyard.errors import AccessDenied, Conflict, NotFound
from shipyard.platform import Platform
from shipyard.security import (
    attach_policy,
    context_for,
    create_principal,
    delete_policy,
    detach_policy,
    list_policies,
    list_policy_versions,
    put_policy,
    put_principal_boundary,
    set_default_policy_version,
)


def _allow(action: str) -> dict[str, object]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


def test_versions_roll_back_and_deletion_waits_for_no_user(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    assert put_policy(admin, "readers", _allow("datasets:ListDatasets")).default_version == 1
    assert put_policy(admin, "readers", _allow("registry:ListModels")).default_version == 2
    create_principal(admin, "reader")
    attach_policy(admin, "reader", "readers")
    reader = context_for(platform, "reader")
    reader.authorize("registry:ListModels", "sy:model")
    with pytest.raises(AccessDenied):
        reader.authorize("datasets:ListDatasets", "sy:dataset")

    versions = list_policy_versions(admin, "readers")
    assert [(v.version, v.default, v.created_by) for v in versions] == [
        (1, False, "admin"),
        (2, True, "admin"),
    ]
    assert set_default_policy_version(admin, "readers", 1).default_version == 1
    context_for(platform, "reader").authorize("datasets:ListDatasets", "sy:dataset")
    with pytest.raises(NotFound) as missing:
        set_default_policy_version(admin, "readers", 9)
    assert missing.value.field == "version"
    with pytest.raises(Conflict):
        set_default_policy_version(admin, "AdministratorAccess", 1)

    with pytest.raises(Conflict) as in_use:
        delete_policy(admin, "readers")
    assert "reader" in str(in_use.value)
    detach_policy(admin, "reader", "readers")
    put_principal_boundary(admin, "reader", "readers")
    with pytest.raises(Conflict):  # deleting a boundary would lift the cap
        delete_policy(admin, "readers")
    put_principal_boundary(admin, "reader", "ReadOnlyAccess")
    assert delete_policy(admin, "readers").name == "readers"
    assert "readers" not in [p.name for p in list_policies(admin).items]
    with pytest.raises(Conflict):
        delete_policy(admin, "ReadOnlyAccess")
