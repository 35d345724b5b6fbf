"""The condition evaluator against IAM's documented semantics, one table per operator family.

Each case is (condition block, request facts, whether the condition holds). Facts map key
names to a value or a list of values; a key left out is absent from the request.
"""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.errors import InvalidInput
from shipyard.security._conditions import Facts, compile_condition
from shipyard.security._policy import Decision, PolicyDocument, evaluate

Case = tuple[dict[str, Any], dict[str, Any], bool]


def _holds(block: dict[str, Any], facts: dict[str, Any]) -> bool:
    compiled = compile_condition(block)
    assert compiled is not None
    return compiled.holds(Facts(facts))


def _check(cases: list[Case]) -> None:
    for block, facts, expected in cases:
        assert _holds(block, facts) is expected, (block, facts)


TAG = "sy:PrincipalTag/team"


def test_string_operators() -> None:
    _check(
        [
            ({"StringEquals": {TAG: "ml"}}, {TAG: "ml"}, True),
            ({"StringEquals": {TAG: "ml"}}, {TAG: "ML"}, False),  # values are case-sensitive
            ({"StringEquals": {TAG: ["ops", "ml"]}}, {TAG: "ml"}, True),  # values OR'ed
            ({"StringEquals": {TAG: "ml"}}, {}, False),  # absent key: false
            ({"StringEquals": {"SY:PRINCIPALTAG/TEAM": "ml"}}, {TAG: "ml"}, True),  # key names
            ({"StringNotEquals": {TAG: ["ops", "ml"]}}, {TAG: "ml"}, False),
            ({"StringNotEquals": {TAG: ["ops", "ml"]}}, {TAG: "data"}, True),
            ({"StringNotEquals": {TAG: "ml"}}, {}, True),  # negated, absent key: true
            ({"StringEqualsIgnoreCase": {TAG: "ml"}}, {TAG: "ML"}, True),
            ({"StringNotEqualsIgnoreCase": {TAG: "ml"}}, {TAG: "Ml"}, False),
            ({"StringLike": {TAG: "m?-*"}}, {TAG: "ml-prod"}, True),
            ({"StringLike": {TAG: "m?-*"}}, {TAG: "ml"}, False),
            ({"StringNotLike": {TAG: "m*"}}, {TAG: "ops"}, True),
            ({"StringNotLike": {TAG: "m*"}}, {}, True),
            ({"StringEqualsIfExists": {TAG: "ml"}}, {}, True),  # IfExists, absent: true
            ({"StringEqualsIfExists": {TAG: "ml"}}, {TAG: "ops"}, False),
            # several keys and operators are AND'ed
            (
                {"StringEquals": {TAG: "ml", "sy:PrincipalName": "ann"}},
                {TAG: "ml", "sy:PrincipalName": "bob"},
                False,
            ),
            (
                {"StringEquals": {TAG: "ml"}, "StringLike": {"sy:PrincipalName": "a*"}},
                {TAG: "ml", "sy:PrincipalName": "ann"},
                True,
            ),
        ]
    )


def test_numeric_operators() -> None:
    key = "sy:MaxRuntime"
    _check(
        [
            ({"NumericEquals": {key: 3600}}, {key: "3600.0"}, True),
            ({"NumericNotEquals": {key: "3600"}}, {key: "60"}, True),
            ({"NumericNotEquals": {key: "3600"}}, {}, True),
            ({"NumericLessThan": {key: 3600}}, {key: "3600"}, False),
            ({"NumericLessThanEquals": {key: 3600}}, {key: "3600"}, True),
            ({"NumericGreaterThan": {key: 3600}}, {key: "7200"}, True),
            ({"NumericGreaterThanEquals": {key: [10, 5000]}}, {key: "20"}, True),
            ({"NumericLessThan": {key: 3600}}, {}, False),
            ({"NumericLessThanIfExists": {key: 3600}}, {}, True),
            ({"NumericLessThan": {key: 3600}}, {key: "not a number"}, False),
        ]
    )


def test_date_operators() -> None:
    key = "sy:CurrentTime"
    now = {key: "2026-12-07T02:00:00+00:00"}
    _check(
        [
            ({"DateLessThan": {key: "2027-01-01T00:00:00Z"}}, now, True),
            ({"DateLessThan": {key: "2026-12-07"}}, now, False),  # a date is its midnight, UTC
            ({"DateGreaterThan": {key: "2026-12-07"}}, now, True),
            ({"DateGreaterThanEquals": {key: "2026-12-07T03:00:00+01:00"}}, now, True),
            ({"DateEquals": {key: 1796608800}}, now, True),  # epoch seconds
            ({"DateNotEquals": {key: "2026-12-07T02:00:00Z"}}, now, False),
            ({"DateLessThanEquals": {key: "2026-12-07T02:00:00Z"}}, now, True),
            ({"DateLessThan": {key: "2027-01-01"}}, {}, False),
            ({"DateLessThanIfExists": {key: "2027-01-01"}}, {}, True),
        ]
    )


def test_bool_and_null() -> None:
    key = "sy:SecureTransport"
    _check(
        [
            ({"Bool": {key: "true"}}, {key: "true"}, True),
            ({"Bool": {key: True}}, {key: "false"}, False),
            ({"Bool": {key: "false"}}, {}, False),  # absent: false, whatever the value
            ({"BoolIfExists": {key: "false"}}, {}, True),
            ({"Null": {key: "true"}}, {}, True),  # true: the key must be absent
            ({"Null": {key: "true"}}, {key: "false"}, False),
            ({"Null": {key: False}}, {key: "false"}, True),
        ]
    )


def test_ip_address_operators() -> None:
    key = "sy:SourceIp"
    _check(
        [
            ({"IpAddress": {key: "10.0.0.0/8"}}, {key: "10.1.2.3"}, True),
            ({"IpAddress": {key: ["192.168.0.0/16", "10.1.2.3"]}}, {key: "10.1.2.3"}, True),
            ({"IpAddress": {key: "10.0.0.0/8"}}, {key: "11.0.0.1"}, False),
            ({"IpAddress": {key: "2001:db8::/32"}}, {key: "2001:db8::1"}, True),
            ({"IpAddress": {key: "::/0"}}, {key: "127.0.0.1"}, False),  # families differ
            ({"IpAddress": {key: "10.0.0.0/8"}}, {}, False),
            ({"NotIpAddress": {key: "10.0.0.0/8"}}, {key: "11.0.0.1"}, True),
            ({"NotIpAddress": {key: "10.0.0.0/8"}}, {key: "10.0.0.1"}, False),
            ({"NotIpAddress": {key: "10.0.0.0/8"}}, {}, True),
            ({"IpAddress": {key: "10.0.0.0/8"}}, {key: "testclient"}, False),
        ]
    )


def test_set_qualifiers() -> None:
    keys = "sy:TagKeys"
    _check(
        [
            ({"ForAllValues:StringEquals": {keys: ["team", "env"]}}, {keys: ["team"]}, True),
            ({"ForAllValues:StringEquals": {keys: ["team"]}}, {keys: ["team", "x"]}, False),
            ({"ForAllValues:StringEquals": {keys: ["team"]}}, {keys: []}, True),  # empty set
            ({"ForAllValues:StringEquals": {keys: ["team"]}}, {}, True),  # absent set
            ({"ForAnyValue:StringEquals": {keys: ["team"]}}, {keys: ["x", "team"]}, True),
            ({"ForAnyValue:StringEquals": {keys: ["team"]}}, {keys: ["x"]}, False),
            ({"ForAnyValue:StringEquals": {keys: ["team"]}}, {keys: []}, False),
            ({"ForAnyValue:StringEquals": {keys: ["team"]}}, {}, False),
            ({"ForAnyValue:StringEqualsIfExists": {keys: ["team"]}}, {}, True),
            ({"ForAllValues:StringNotEquals": {keys: ["secret"]}}, {keys: ["a", "b"]}, True),
            ({"ForAllValues:StringNotEquals": {keys: ["secret"]}}, {keys: ["a", "secret"]}, False),
            ({"ForAnyValue:StringNotEquals": {keys: ["secret"]}}, {keys: ["secret", "a"]}, True),
            ({"ForAllValues:StringLike": {keys: ["cost-*"]}}, {keys: ["cost-a", "cost-b"]}, True),
        ]
    )


@pytest.mark.parametrize(
    ("condition", "field", "words"),
    [
        ({"StringEqual": {TAG: "x"}}, "Condition.StringEqual", "did you mean 'StringEquals'"),
        ({"StringEquals": {"sy:SourceIP4": "x"}}, "Condition.StringEquals.sy:SourceIP4", "unknown"),
        ({"StringEquals": {"sy:PrincipalTag/": "x"}}, "sy:PrincipalTag/", "needs a tag key"),
        ({"NumericLessThan": {"sy:MaxRuntime": ["1", "x"]}}, "sy:MaxRuntime.1", "not a number"),
        ({"DateLessThan": {"sy:CurrentTime": "tomorrow"}}, "sy:CurrentTime", "not a date"),
        ({"Bool": {"sy:SecureTransport": "yes"}}, "sy:SecureTransport", "true or false"),
        ({"IpAddress": {"sy:SourceIp": "10.0.0.0/33"}}, "sy:SourceIp", "CIDR"),
        ({"IpAddress": {"sy:PrincipalName": "10.0.0.0/8"}}, "sy:PrincipalName", "cannot test"),
        ({"StringEquals": {"sy:TagKeys": "a"}}, "sy:TagKeys", "ForAllValues"),
        ({"ForAnyValue:Null": {TAG: "true"}}, "Condition.ForAnyValue:Null", "Null takes"),
        ({"StringEquals": {TAG: []}}, TAG, "at least one value"),
        ({"StringEquals": "ml"}, "Condition.StringEquals", "must map"),
    ],
)
def test_bad_conditions_are_refused_naming_the_field(
    condition: dict[str, Any], field: str, words: str
) -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    document["Statement"][0]["Condition"] = condition
    with pytest.raises(InvalidInput) as caught:
        PolicyDocument.parse(document)
    assert caught.value.field is not None
    assert caught.value.field.startswith("document.Statement.0.Condition.")
    assert caught.value.field.endswith(field)
    assert words in str(caught.value)


def test_a_statement_applies_only_when_its_condition_holds() -> None:
    document = PolicyDocument.parse(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "datasets:*", "Resource": "*"},
                {
                    "Sid": "OnlyFromTheOffice",
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"NotIpAddress": {"sy:SourceIp": "10.0.0.0/8"}},
                },
            ]
        }
    )
    action, target = "datasets:GetDataset", "sy:dataset/churn"
    office, home = Facts({"sy:SourceIp": "10.0.0.7"}), Facts({"sy:SourceIp": "203.0.113.9"})
    assert evaluate([document], action, target, office) is Decision.ALLOW
    assert evaluate([document], action, target, home) is Decision.EXPLICIT_DENY
    assert evaluate([document], action, target) is Decision.EXPLICIT_DENY  # no address: absent
    stored = PolicyDocument.model_validate(document.model_dump(exclude_none=True))
    assert evaluate([stored], action, target, office) is Decision.ALLOW
