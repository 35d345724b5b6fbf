"""Policies are checked when stored, over REST too; policies stored earlier still load."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shipyard.errors import AccessDenied
from shipyard.platform import Platform
from shipyard.security import (
    CachedKeyAuthorizer,
    attach_policy,
    context_for,
    create_api_key,
    create_principal,
    list_policies,
    put_policy,
)
from shipyard.store.metadata import tables as t

LEGACY = {
    "Statement": [
        {"Effect": "Allow", "Action": ["endpoint:Invoke"], "Resource": ["sy:endpoints/x"]},
        {"Effect": "Allow", "Action": ["datasets:ReadData"], "Resource": ["sy:dataset/a/*"]},
    ]
}


def test_put_policy_over_rest_names_the_field_and_the_nearest_action(
    platform: Platform, api_server: Any, admin_key: str
) -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "endpoint:Invoke", "Resource": "*"}]}
    response = httpx.put(
        f"{api_server.url}/api/v1/policies/typo",
        json={"document": document},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "InvalidInput"
    assert error["field"] == "document.Statement.0.Action.0"
    assert "did you mean 'endpoints:Invoke'?" in error["message"]
    assert [p.name for p in list_policies(context_for(platform, "admin")).items] == [
        "AdministratorAccess",
        "ReadOnlyAccess",
    ]


def test_a_policy_stored_before_the_check_still_loads_and_applies(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    with platform.db.session() as session:
        session.add(t.Policy(name="legacy", document=LEGACY))
    create_principal(admin, "old-timer")
    attach_policy(admin, "old-timer", "legacy")

    ctx = context_for(platform, "old-timer")
    ctx.authorize("datasets:ReadData", "sy:dataset/a/1")
    with pytest.raises(AccessDenied):
        ctx.authorize("datasets:ReadData", "sy:dataset/b/1")
    assert "legacy" in [p.name for p in list_policies(admin).items]

    token = create_api_key(admin, "old-timer").token
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=0)
    assert authorizer.authorize(f"Bearer {token}", "datasets:ReadData", "sy:dataset/a/1")


def test_the_data_plane_honours_not_action(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "app")
    put_policy(
        admin,
        "all-but-metrics",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "NotAction": "endpoints:ReadMetrics",
                    "Resource": "sy:endpoint/bc",
                }
            ]
        },
    )
    attach_policy(admin, "app", "all-but-metrics")
    token = create_api_key(admin, "app").token
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=0)
    header = f"Bearer {token}"
    assert authorizer.authorize(header, "endpoints:Invoke", "sy:endpoint/bc") == "app"
    with pytest.raises(AccessDenied):
        authorizer.authorize(header, "endpoints:ReadMetrics", "sy:endpoint/bc")
    with pytest.raises(AccessDenied):
        authorizer.authorize(header, "endpoints:Invoke", "sy:endpoint/other")
