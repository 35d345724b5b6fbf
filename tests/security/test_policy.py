from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput
from shipyard.security import Decision, PolicyDocument, evaluate
from shipyard.security._policy import allows_action_anywhere, evaluate_names


def doc(*statements: dict[str, object]) -> PolicyDocument:
    return PolicyDocument.parse({"Statement": list(statements)})


ALLOW_READS = {"Effect": "Allow", "Action": ["datasets:Get*"], "Resource": ["sy:dataset/*"]}


def test_default_deny() -> None:
    assert evaluate([], "datasets:GetDataset", "sy:dataset/a") is Decision.DEFAULT_DENY


def test_allow_with_wildcards() -> None:
    policy = doc(ALLOW_READS)
    assert evaluate([policy], "datasets:GetDataset", "sy:dataset/a/3") is Decision.ALLOW
    assert evaluate([policy], "datasets:Ingest", "sy:dataset/a") is Decision.DEFAULT_DENY
    assert evaluate([policy], "datasets:GetDataset", "sy:model/a") is Decision.DEFAULT_DENY


def test_actions_are_case_insensitive_resources_are_not() -> None:
    policy = doc(ALLOW_READS)
    assert evaluate([policy], "DATASETS:getdataset", "sy:dataset/a") is Decision.ALLOW
    assert evaluate([policy], "datasets:GetDataset", "SY:DATASET/a") is Decision.DEFAULT_DENY


def test_question_mark_matches_one_character() -> None:
    policy = doc({"Effect": "Allow", "Action": "*", "Resource": "sy:model/churn/?"})
    assert evaluate([policy], "registry:GetModel", "sy:model/churn/3") is Decision.ALLOW
    assert evaluate([policy], "registry:GetModel", "sy:model/churn/12") is Decision.DEFAULT_DENY


def test_explicit_deny_wins_across_documents() -> None:
    allow_all = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    deny = doc({"Effect": "Deny", "Action": "endpoints:*", "Resource": "sy:endpoint/prod-*"})
    assert evaluate([allow_all, deny], "endpoints:Invoke", "sy:endpoint/prod-1") is (
        Decision.EXPLICIT_DENY
    )
    assert evaluate([allow_all, deny], "endpoints:Invoke", "sy:endpoint/dev") is Decision.ALLOW


def test_regex_characters_are_literal() -> None:
    policy = doc({"Effect": "Allow", "Action": "*", "Resource": "sy:dataset/a.b"})
    assert evaluate([policy], "x:y", "sy:dataset/a.b") is Decision.ALLOW
    assert evaluate([policy], "x:y", "sy:dataset/aXb") is Decision.DEFAULT_DENY


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"Statement": []}, "document.Statement"),
        ({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}, "Effect"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Action"),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "X": 1}]}, "X"),
    ],
)
def test_bad_documents_name_the_field(document: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PolicyDocument.parse(document)
    assert field in str(caught.value.field)


def test_allow_not_action_allows_everything_else() -> None:
    policy = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert evaluate([policy], "datasets:Ingest", "sy:dataset/a") is Decision.ALLOW
    assert evaluate([policy], "iam:CreatePrincipal", "sy:principal/eve") is (Decision.DEFAULT_DENY)
    assert allows_action_anywhere([policy], "datasets:Ingest")
    assert not allows_action_anywhere([policy], "IAM:PutPolicy")


def test_deny_not_resource_denies_every_other_resource() -> None:
    allow_all = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    fence = doc({"Effect": "Deny", "Action": "*", "NotResource": "sy:dataset/mine*"})
    assert evaluate([allow_all, fence], "datasets:ReadData", "sy:dataset/mine/3") is (
        Decision.ALLOW
    )
    assert evaluate([allow_all, fence], "datasets:ReadData", "sy:dataset/theirs/3") is (
        Decision.EXPLICIT_DENY
    )
    assert evaluate([allow_all, fence], "registry:GetModel", "sy:model/churn") is (
        Decision.EXPLICIT_DENY
    )


def test_deny_not_action_denies_every_other_action_on_its_resources() -> None:
    allow_all = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    read_only_data = doc(
        {
            "Effect": "Deny",
            "NotAction": ["datasets:Get*", "datasets:ReadData"],
            "Resource": "sy:dataset/*",
        }
    )
    policies = [allow_all, read_only_data]
    assert evaluate(policies, "datasets:ReadData", "sy:dataset/a/1") is Decision.ALLOW
    assert evaluate(policies, "datasets:Ingest", "sy:dataset/a") is Decision.EXPLICIT_DENY
    assert evaluate(policies, "registry:RegisterModel", "sy:model/m") is Decision.ALLOW


def test_allow_not_resource_allows_only_outside_the_list() -> None:
    policy = doc({"Effect": "Allow", "Action": "datasets:*", "NotResource": "sy:dataset/hr-*"})
    assert evaluate([policy], "datasets:ReadData", "sy:dataset/sales") is Decision.ALLOW
    assert evaluate([policy], "datasets:ReadData", "sy:dataset/hr-pay/1") is (Decision.DEFAULT_DENY)
    excludes_all = doc({"Effect": "Allow", "Action": "*", "NotResource": "*"})
    assert not allows_action_anywhere([excludes_all], "datasets:ReadData")


def test_many_wildcards_are_matched_without_backtracking_blowup() -> None:
    """``*a*a*a...b`` against ``aaaa...`` took exponential time as a regular expression."""
    pattern = "sy:dataset/" + "*a" * 20 + "b"
    policy = PolicyDocument.model_validate(
        {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": pattern}]}
    )
    assert evaluate([policy], "datasets:ReadData", "sy:dataset/" + "a" * 90) is (
        Decision.DEFAULT_DENY
    )
    assert evaluate([policy], "datasets:ReadData", "sy:dataset/" + "a" * 90 + "b") is (
        Decision.EXPLICIT_DENY
    )
    with pytest.raises(InvalidInput):
        PolicyDocument.parse(
            {"Statement": [{"Effect": "Allow", "Action": "*a" * 20 + ":b", "Resource": "*"}]}
        )


def test_not_resource_excepts_a_resource_listed_under_any_of_its_names() -> None:
    """A version is also known unversioned; excepting the version must not be undone by that."""
    allow_all = doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    fence = doc({"Effect": "Deny", "Action": "*", "NotResource": "sy:model/churn/3"})
    names = ("sy:model/churn/3", "sy:model/churn")
    assert evaluate_names([allow_all, fence], "registry:GetModel", names) is Decision.ALLOW
    other = ("sy:model/churn/4", "sy:model/churn")
    assert evaluate_names([allow_all, fence], "registry:GetModel", other) is (
        Decision.EXPLICIT_DENY
    )
    all_but_v1 = doc({"Effect": "Allow", "Action": "*", "NotResource": "sy:dataset/hr/1"})
    v1 = ("sy:dataset/hr/1", "sy:dataset/hr")
    assert evaluate_names([all_but_v1], "datasets:ReadData", v1) is Decision.DEFAULT_DENY
    deny_unversioned = doc({"Effect": "Deny", "Action": "*", "Resource": "sy:dataset/hr"})
    assert evaluate_names([allow_all, deny_unversioned], "datasets:ReadData", v1) is (
        Decision.EXPLICIT_DENY
    )


@pytest.mark.parametrize(
    ("statement", "field", "message"),
    [
        (
            {"Effect": "Allow", "Action": "endpoint:Invoke", "Resource": "*"},
            "document.Statement.0.Action.0",
            "unknown action 'endpoint:Invoke'; did you mean 'endpoints:Invoke'?",
        ),
        (
            {"Effect": "Allow", "Action": ["datasets:ReadData", "datasets:Read"], "Resource": "*"},
            "document.Statement.0.Action.1",
            "did you mean 'datasets:ReadData'?",
        ),
        (
            {"Effect": "Allow", "Action": "datasetz:*", "Resource": "*"},
            "document.Statement.0.Action.0",
            "matches no known action; did you mean 'datasets:*'?",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "sy:endpoints/x"},
            "document.Statement.0.Resource.0",
            "unknown resource kind 'endpoints' in 'sy:endpoints/x'; did you mean 'sy:endpoint/x'?",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::bucket"},
            "document.Statement.0.Resource.0",
            "is not a Shipyard resource name",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "sy:dataset"},
            "document.Statement.0.Resource.0",
            "did you mean 'sy:dataset/*'?",
        ),
        (
            {"Effect": "Allow", "Action": "*", "Resource": "sy:model/churn@champion"},
            "document.Statement.0.Resource.0",
            "resolved to a version",
        ),
        (
            {"Effect": "Allow", "NotAction": "iam:CreateUsr", "Resource": "*"},
            "document.Statement.0.NotAction.0",
            "unknown action 'iam:CreateUsr'",
        ),
        (
            {"Effect": "Deny", "Action": "*", "NotResource": ["sy:dataset/a", "sy:datasets/b"]},
            "document.Statement.0.NotResource.1",
            "did you mean 'sy:dataset/b'?",
        ),
        (
            {"Effect": "Allow", "Action": "*", "NotAction": "iam:*", "Resource": "*"},
            "document.Statement.0.NotAction",
            "exactly one of Action or NotAction",
        ),
        (
            {"Effect": "Allow", "Action": "*"},
            "document.Statement.0.Resource",
            "exactly one of Resource or NotResource",
        ),
    ],
)
def test_stored_documents_are_checked_against_the_action_table(
    statement: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        PolicyDocument.parse({"Statement": [statement]})
    assert caught.value.field == field
    assert message in caught.value.message


@pytest.mark.parametrize(
    "action", ["*", "datasets:*", "*:Get*", "DATASETS:readdata", "endpoints:Invoke", "*:*"]
)
@pytest.mark.parametrize(
    "resource", ["*", "sy:*", "sy:dataset/churn*", "sy:model/churn/?", "sy:data*", "sy:*/x"]
)
def test_wildcards_that_can_match_stay_legal(action: str, resource: str) -> None:
    PolicyDocument.parse(
        {"Statement": [{"Effect": "Allow", "NotAction": action, "NotResource": resource}]}
    )
