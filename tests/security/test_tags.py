"""Tags on principals and resources, and the conditions that test them (attribute-based
access): sy:PrincipalTag, sy:ResourceTag, sy:RequestTag and sy:TagKeys."""

from __future__ import annotations

import pytest

from shipyard.client import Client
from shipyard.errors import AccessDenied, InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import (
    attach_policy,
    context_for,
    create_principal,
    put_policy,
    tag_experiment,
    tag_principal,
    untag_principal,
)
from shipyard.tracking import create_experiment, get_experiment


def test_tags_are_set_listed_and_removed(client: Client) -> None:
    made = client.iam.create_principal("tagged", tags={"team": "ml", "cost-center": "42"})
    assert made.tags == {"cost-center": "42", "team": "ml"}
    client.tracking.create_experiment("tagged-exp")

    client.iam.tag("sy:experiment/tagged-exp", {"team": "ml", "stage": "dev"})
    client.iam.tag("sy:experiment/tagged-exp", {"Stage": "prod"})  # a key's case is one key
    assert client.iam.tags("sy:experiment/tagged-exp").tags == {"Stage": "prod", "team": "ml"}
    after = client.iam.untag("sy:experiment/tagged-exp", ["stage", "absent"])
    assert after.tags == {"team": "ml"}
    assert client.iam.untag("sy:principal/tagged", ["team"]).tags == {"cost-center": "42"}

    with pytest.raises(InvalidInput) as bad:
        client.iam.tag("sy:experiment/tagged-exp", {"sy:owner": "x"})
    assert bad.value.field == "tags.sy:owner"
    with pytest.raises(NotFound):  # no labelling a name before its owner creates it
        client.iam.tag("sy:model/not-yet", {"team": "ml"})
    with pytest.raises(InvalidInput) as kind:
        client.iam.tag("sy:feature-view/fv", {"team": "ml"})
    assert kind.value.field == "resource"
    assert client.iam.tags("sy:experiment/tagged-exp").tags == {"team": "ml"}


def test_principal_and_resource_tags_decide_access(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    same_team = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "tracking:GetExperiment",
                "Resource": "sy:experiment/*",
                "Condition": {
                    "StringEquals": {"sy:ResourceTag/team": "ml", "sy:PrincipalTag/Team": "ml"}
                },
            }
        ]
    }
    put_policy(admin, "same-team", same_team)
    create_principal(admin, "ann", tags={"team": "ml"})
    attach_policy(admin, "ann", "same-team")
    create_experiment(admin, "ml-exp")
    create_experiment(admin, "other-exp")
    tag_experiment(admin, "ml-exp", {"team": "ml"})

    ann = context_for(platform, "ann")
    assert get_experiment(ann, "ml-exp").name == "ml-exp"
    with pytest.raises(AccessDenied):
        get_experiment(ann, "other-exp")
    untag_principal(admin, "ann", ["team"])
    with pytest.raises(AccessDenied):
        get_experiment(context_for(platform, "ann"), "ml-exp")


def test_request_tags_limit_what_may_be_tagged(platform: Platform) -> None:
    admin = context_for(platform, "admin")
    only_team = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["tracking:TagResource", "iam:CreatePrincipal", "iam:TagPrincipal"],
                "Resource": "*",
                "Condition": {
                    "ForAllValues:StringEquals": {"sy:TagKeys": ["team"]},
                    "StringEqualsIfExists": {"sy:RequestTag/team": ["ml", "ops"]},
                },
            }
        ]
    }
    put_policy(admin, "only-team", only_team)
    create_principal(admin, "labeller")
    attach_policy(admin, "labeller", "only-team")
    create_experiment(admin, "lab-exp")
    ctx = context_for(platform, "labeller")

    assert tag_experiment(ctx, "lab-exp", {"team": "ops"}).tags == {"team": "ops"}
    with pytest.raises(AccessDenied):
        tag_experiment(ctx, "lab-exp", {"team": "finance"})
    with pytest.raises(AccessDenied):
        tag_experiment(ctx, "lab-exp", {"team": "ml", "owner": "me"})
    assert create_principal(ctx, "helper", tags={"team": "ml"}).tags == {"team": "ml"}
    with pytest.raises(AccessDenied):
        create_principal(ctx, "helper2", tags={"admin": "yes"})
    with pytest.raises(AccessDenied):  # tagging a principal is its own action
        tag_principal(context_for(platform, "helper"), "helper", {"team": "ops"})
