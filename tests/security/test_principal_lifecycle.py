"""A principal's life: keys that expire, disabled and enabled, deleted with what it owns."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import AccessDenied, Conflict, InvalidInput, NotFound, Unauthenticated
from shipyard.platform import Platform
from shipyard.security import (
    CachedKeyAuthorizer,
    Decision,
    attach_policy,
    authenticate,
    context_for,
    create_api_key,
    create_principal,
    delete_principal,
    delete_principal_boundary,
    disable_principal,
    enable_principal,
    list_api_keys,
    put_policy,
    put_principal_boundary,
    simulate_policy,
    tag_principal,
)
from shipyard.store.metadata import tables as t
from shipyard.store.metadata import tag_tables as tt


def test_a_key_stops_working_when_it_expires(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "temp")
    key = create_api_key(admin, "temp", expires_in="90m")
    assert key.expires_at is not None and key.token
    left = key.expires_at - utcnow()
    assert timedelta(minutes=89) < left <= timedelta(minutes=90)
    assert list_api_keys(admin, "temp").items[0].expires_at == key.expires_at
    bearer = f"Bearer {key.token}"
    assert authenticate(platform, bearer).principal == "temp"
    with pytest.raises(AccessDenied):  # known and valid, but allowed nothing
        CachedKeyAuthorizer(platform, refresh_seconds=0).authorize(
            bearer, "datasets:ListDatasets", "sy:dataset"
        )

    with platform.db.session() as session:  # an hour and a half later
        session.execute(
            sa.update(t.ApiKey)
            .where(t.ApiKey.key_id == key.key_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with pytest.raises(Unauthenticated):
        authenticate(platform, bearer)
    authorizer = CachedKeyAuthorizer(platform, refresh_seconds=0)
    with pytest.raises(Unauthenticated):  # the cached copy checks the time on each request
        authorizer.authorize(bearer, "datasets:ListDatasets", "sy:dataset")

    for bad in ("30", "0m", "11000d", "soon"):
        with pytest.raises(InvalidInput) as caught:
            create_api_key(admin, "temp", expires_in=bad)
        assert caught.value.field == "expires_in"
    assert len(list_api_keys(admin, "temp").items) == 1


def test_disable_enable_and_delete(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "leaver")
    tag_principal(admin, "leaver", {"team": "ml"})
    bearer = f"Bearer {create_api_key(admin, 'leaver').token}"

    assert disable_principal(admin, "leaver").disabled
    with pytest.raises(Unauthenticated):
        authenticate(platform, bearer)
    assert not enable_principal(admin, "leaver").disabled
    assert authenticate(platform, bearer).principal == "leaver"
    with pytest.raises(Conflict):
        disable_principal(admin, "admin")
    with pytest.raises(Conflict):
        delete_principal(admin, "admin")

    assert delete_principal(admin, "leaver").name == "leaver"
    with pytest.raises(Unauthenticated):
        authenticate(platform, bearer)
    with pytest.raises(NotFound):
        context_for(platform, "leaver")
    with platform.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(tt.PrincipalTag)) == 0
    create_principal(admin, "leaver")  # the name is free again, with nothing of the old one
    assert list_api_keys(admin, "leaver").items == []


def test_a_boundary_caps_what_policies_allow(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    boundary = {
        "Statement": [
            {"Effect": "Allow", "Action": ["datasets:*", "iam:List*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "datasets:ReadData", "Resource": "sy:dataset/secret"},
        ]
    }
    put_policy(admin, "data-only", boundary)
    put_policy(
        admin,
        "no-principals",
        {"Statement": [{"Effect": "Deny", "Action": "iam:ListPrincipals", "Resource": "*"}]},
    )
    create_principal(admin, "capped")
    attach_policy(admin, "capped", "AdministratorAccess")
    attach_policy(admin, "capped", "no-principals")
    assert put_principal_boundary(admin, "capped", "data-only").boundary == "data-only"
    token = create_api_key(admin, "capped").token
    ctx = context_for(platform, "capped")
    cached = CachedKeyAuthorizer(platform, refresh_seconds=0)

    cases = [
        ("datasets:ReadData", "sy:dataset/churn", Decision.ALLOW),  # both allow
        ("registry:GetModel", "sy:model/m", Decision.DEFAULT_DENY),  # the boundary does not
        ("datasets:ReadData", "sy:dataset/secret", Decision.EXPLICIT_DENY),  # its Deny wins
        ("iam:ListPrincipals", "sy:principal", Decision.EXPLICIT_DENY),  # a policy's Deny wins
    ]
    for action, target, expected in cases:
        assert ctx.decide(action, target)[0] is expected, (action, target)
        allowed = expected is Decision.ALLOW
        if allowed:
            assert cached.authorize(f"Bearer {token}", action, target) == "capped"
        else:
            with pytest.raises(AccessDenied):
                cached.authorize(f"Bearer {token}", action, target)
        simulated = simulate_policy(admin, "capped", action, target)
        assert (simulated.decision, simulated.boundary) == (expected.value, "data-only")

    assert delete_principal_boundary(admin, "capped").boundary is None
    assert context_for(platform, "capped").decide("registry:GetModel", "sy:model/m")[0] is (
        Decision.ALLOW
    )
