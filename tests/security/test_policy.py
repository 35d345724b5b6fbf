from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput
from shipyard.security import Decision, PolicyDocument, evaluate


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
