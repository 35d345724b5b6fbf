"""Groups: a member holds its groups' policies, everywhere a decision is made (in-process,
bearer keys, the data plane's cache, the simulator), and loses them when it leaves. Roles:
a principal the trust policy names assumes one for a session key that expires."""

from __future__ import annotations

import pytest

from shipyard.errors import AccessDenied, Conflict, InvalidInput, NotFound, Unauthenticated
from shipyard.platform import Platform
from shipyard.security import (
    CachedKeyAuthorizer,
    add_group_member,
    assume_role,
    attach_group_policy,
    attach_policy,
    authenticate,
    context_for,
    create_api_key,
    create_group,
    create_principal,
    create_role,
    delete_group,
    delete_policy,
    delete_principal,
    detach_group_policy,
    disable_principal,
    enable_principal,
    put_policy,
    put_principal_boundary,
    remove_group_member,
    simulate_policy,
)

READ_MODELS = {"Statement": [{"Effect": "Allow", "Action": "registry:List*", "Resource": "*"}]}


def test_group_policies_apply_to_members_only_while_they_are_members(
    platform: Platform,
) -> None:
    admin = context_for(platform, "admin")
    put_policy(admin, "read-models", READ_MODELS)
    create_group(admin, "scientists")
    attach_group_policy(admin, "scientists", "read-models")
    create_principal(admin, "ada")
    bearer = f"Bearer {create_api_key(admin, 'ada').token}"
    with pytest.raises(AccessDenied):
        context_for(platform, "ada").authorize("registry:ListModels", "sy:model")

    info = add_group_member(admin, "scientists", "ada")
    assert (info.members, info.policies) == (["ada"], ["read-models"])
    authenticate(platform, bearer).authorize("registry:ListModels", "sy:model")
    assert CachedKeyAuthorizer(platform, refresh_seconds=0).authorize(
        bearer, "registry:ListModels", "sy:model"
    )
    simulated = simulate_policy(admin, "ada", "registry:ListModels", "sy:model")
    assert simulated.decision == "allow"
    assert simulated.deciding is not None
    assert simulated.deciding.policy == "scientists/read-models"

    with pytest.raises(Conflict):  # still attached to the group
        delete_policy(admin, "read-models")
    put_policy(
        admin, "nothing", {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    )
    put_principal_boundary(admin, "ada", "nothing")  # a boundary caps group policies too
    with pytest.raises(AccessDenied):
        context_for(platform, "ada").authorize("registry:ListModels", "sy:model")
    put_principal_boundary(admin, "ada", "read-models")

    remove_group_member(admin, "scientists", "ada")
    with pytest.raises(AccessDenied):
        context_for(platform, "ada").authorize("registry:ListModels", "sy:model")
    add_group_member(admin, "scientists", "ada")
    assert delete_group(admin, "scientists").members == ["ada"]
    with pytest.raises(AccessDenied):
        context_for(platform, "ada").authorize("registry:ListModels", "sy:model")
    with pytest.raises(NotFound) as missing:
        detach_group_policy(admin, "scientists", "read-models")
    assert missing.value.field == "group"
    create_group(admin, "ops")
    with pytest.raises(Conflict):
        create_group(admin, "ops")


def test_a_trusted_principal_assumes_a_role_for_a_session(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": ["ci-*"]},
            {"Effect": "Deny", "Principal": ["ci-untrusted"]},
        ]
    }
    role = create_role(admin, "deployer", trust)
    assert role.kind == "role" and role.trust_policy == trust
    put_policy(admin, "read-models", READ_MODELS)
    attach_policy(admin, "deployer", "read-models")
    may_assume = {"Statement": [{"Effect": "Allow", "Action": "iam:AssumeRole", "Resource": "*"}]}
    put_policy(admin, "may-assume", may_assume)
    for name in ("ci-bot", "ci-untrusted", "stranger"):
        create_principal(admin, name)
        attach_policy(admin, name, "may-assume")

    session = assume_role(context_for(platform, "ci-bot"), "deployer", duration="15m")
    assert session.principal == "deployer" and session.assumed_by == "ci-bot"
    assert session.expires_at is not None and session.token
    as_role = authenticate(platform, f"Bearer {session.token}")
    assert as_role.principal == "deployer"
    as_role.authorize("registry:ListModels", "sy:model")
    with pytest.raises(AccessDenied):  # the role's policies, not the caller's
        as_role.authorize("iam:AssumeRole", "sy:principal/deployer")

    for name in ("ci-untrusted", "stranger"):
        with pytest.raises(AccessDenied):
            assume_role(context_for(platform, name), "deployer")
    with pytest.raises(InvalidInput) as long:
        assume_role(context_for(platform, "ci-bot"), "deployer", duration="13h")
    assert long.value.field == "duration"
    with pytest.raises(Conflict):  # no lasting key for a role
        create_api_key(admin, "deployer")
    with pytest.raises(InvalidInput) as bad:
        create_role(admin, "broken", {"Statement": [{"Effect": "Allow", "Principal": []}]})
    assert bad.value.field == "trust_policy.Statement.0.Principal"


def test_disabling_or_deleting_a_principal_ends_the_role_sessions_it_assumed(
    platform: Platform,
) -> None:
    admin = context_for(platform, "admin")
    create_role(admin, "deployer", {"Statement": [{"Effect": "Allow", "Principal": ["ci-*"]}]})
    put_policy(admin, "read-models", READ_MODELS)
    attach_policy(admin, "deployer", "read-models")
    may_assume = {"Statement": [{"Effect": "Allow", "Action": "iam:AssumeRole", "Resource": "*"}]}
    put_policy(admin, "may-assume", may_assume)
    tokens = {}
    for name in ("ci-one", "ci-two", "ci-three"):
        create_principal(admin, name)
        attach_policy(admin, name, "may-assume")
        token = assume_role(context_for(platform, name), "deployer").token
        assert token is not None
        tokens[name] = f"Bearer {token}"
        assert authenticate(platform, tokens[name]).principal == "deployer"

    disable_principal(admin, "ci-one")
    delete_principal(admin, "ci-two")
    for name in ("ci-one", "ci-two"):
        with pytest.raises(Unauthenticated):
            authenticate(platform, tokens[name])
    enable_principal(admin, "ci-one")  # its own keys come back; the revoked session does not
    with pytest.raises(Unauthenticated):
        authenticate(platform, tokens["ci-one"])
    assert authenticate(platform, tokens["ci-three"]).principal == "deployer"
