"""MLflow's run search grammar: what parses to what, and where a bad filter goes wrong."""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput
from shipyard.tracking import Comparison, OrderKey, parse_filter, parse_order_by


def c(kind: str, key: str, op: str, value: object, position: int = 1) -> Comparison:
    return Comparison(kind, key, op, value, position)  # type: ignore[arg-type]


VALID: list[tuple[str, list[Comparison]]] = [
    ("", []),
    ("   ", []),
    ("metrics.auc > 0.8", [c("metric", "auc", ">", 0.8)]),
    ("metric.auc >= 1", [c("metric", "auc", ">=", 1.0)]),
    ("metrics.loss<-1.5e-3", [c("metric", "loss", "<", -1.5e-3)]),
    ("metrics.loss <= .5", [c("metric", "loss", "<=", 0.5)]),
    ("metrics.loss != 2", [c("metric", "loss", "!=", 2.0)]),
    ("metrics.loss <> 2", [c("metric", "loss", "!=", 2.0)]),
    (
        "metrics.auc > 0.8 and params.max_depth = '6'",
        [c("metric", "auc", ">", 0.8), c("param", "max_depth", "=", "6", 23)],
    ),
    (
        "metrics.a = 1 AND params.b = \"x\" And tags.c != 'y'",
        [
            c("metric", "a", "=", 1.0),
            c("param", "b", "=", "x", 19),
            c("tag", "c", "!=", "y", 38),
        ],
    ),
    ("parameters.lr = '0.1'", [c("param", "lr", "=", "0.1")]),
    ("param.lr LIKE '0.%'", [c("param", "lr", "LIKE", "0.%")]),
    ("params.model ilike '%forest%'", [c("param", "model", "ILIKE", "%forest%")]),
    ("tags.team IN ('risk', 'fraud')", [c("tag", "team", "IN", ("risk", "fraud"))]),
    ("tags.team not in ('risk')", [c("tag", "team", "NOT IN", ("risk",))]),
    ("tags.team IS NULL", [c("tag", "team", "IS NULL", None)]),
    ("params.seed is not null", [c("param", "seed", "IS NOT NULL", None)]),
    ("tags.mlflow.parentRunId = 'abc'", [c("tag", "mlflow.parentRunId", "=", "abc")]),
    ("tags.\"mlflow.runName\" = 'r'", [c("tag", "mlflow.runName", "=", "r")]),
    ("metrics.`error rate` < 0.1", [c("metric", "error rate", "<", 0.1)]),
    ('metrics."2019-04-02 error" < 1', [c("metric", "2019-04-02 error", "<", 1.0)]),
    ("`metrics`.`f1-score` > 0", [c("metric", "f1-score", ">", 0.0)]),
    ("params.note = 'it''s'", [c("param", "note", "=", "it's")]),
    ("params.note = 'and or'", [c("param", "note", "=", "and or")]),
    ("attributes.status = 'FINISHED'", [c("attribute", "status", "=", "FINISHED")]),
    ("status != 'failed'", [c("attribute", "status", "!=", "failed")]),
    ("run.run_name LIKE 'tune-%'", [c("attribute", "run_name", "LIKE", "tune-%")]),
    ("attributes.`run name` = 'x'", [c("attribute", "run_name", "=", "x")]),
    ("attr.run_id IN ('a', 'b')", [c("attribute", "run_id", "IN", ("a", "b"))]),
    ("attributes.created > 1700000000000", [c("attribute", "start_time", ">", 1.7e12)]),
    ("attributes.end_time <= 5", [c("attribute", "end_time", "<=", 5.0)]),
    ("attributes.user_id = 'admin'", [c("attribute", "user_id", "=", "admin")]),
    ("attributes.parent_run_id = 'p'", [c("attribute", "parent_run_id", "=", "p")]),
]

INVALID: list[tuple[str, int | None, str]] = [
    ("metrics.auc", 12, "expected a comparator, found the end"),
    ("metrics.auc >", 14, "expected a value, found the end"),
    ("metrics.auc > 'high'", 15, "compares to a number"),
    ("params.depth = 6", 16, "compares to a quoted string"),
    ("params.depth > '6'", 14, "> does not apply to param"),
    ("metrics.auc LIKE '0.%'", 13, "LIKE does not apply to metric"),
    ("metrics.auc IS NULL", 13, "IS NULL does not apply to metric"),
    ("attributes.start_time = 'yesterday'", 25, "compares to a number"),
    ("attributes.status > 'a'", 19, "> does not apply to string attribute"),
    ("attributes.color = 'red'", 1, "unknown attribute 'color'"),
    ("colour = 'red'", 1, "unknown attribute 'colour'"),
    ("features.x = 1", 1, "unknown entity type 'features'"),
    ("metrics.a > 1 or metrics.b < 2", 15, "OR is not supported"),
    ("metrics.a > 1 metrics.b < 2", 15, "expected AND or the end"),
    ("metrics.a > 1 and", 18, "expected an identifier such as metrics.auc, found the end"),
    ("and metrics.a > 1", 1, "unknown attribute 'and'"),
    ("params.x = 'open", 12, "unterminated quote '"),
    ("metrics.`open > 1", 9, "unterminated quote `"),
    ("metrics.a > 1; drop table runs", 14, "unexpected character ';'"),
    ("params.x == 'a'", 11, "compares to a quoted string"),
    ("params.x NOT LIKE 'a'", 10, "expected a comparator"),
    ("tags.t IN 'a'", 11, "expected a parenthesized list"),
    ("tags.t IN ('a' 'b')", 16, "expected ',' or ')'"),
    ("tags.t IN ('a', 1)", 17, "expected a quoted string"),
    ("tags.t IN ()", 12, "expected a quoted string, found ')'"),
    ("metrics. > 1", 10, "expected a key"),
    ("metrics.`` > 1", 1, "the key is empty"),
    ("x" * 10_001, None, "at most 10000 characters"),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t or "empty" for t, _ in VALID])
def test_valid_filters_parse(text: str, expected: list[Comparison]) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "position", "problem"), INVALID, ids=[t[:40] for t, _, _ in INVALID]
)
def test_invalid_filters_name_the_field_position_and_problem(
    text: str, position: int | None, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert caught.value.field == "filter"
    message = str(caught.value)
    assert problem in message
    if position is not None:
        assert f"at position {position}:" in message


def test_order_by_keys_and_directions() -> None:
    assert parse_order_by(
        ["metrics.auc DESC", "params.`max depth` asc", "start_time", "tags.mlflow.runName"]
    ) == [
        OrderKey("metric", "auc", ascending=False),
        OrderKey("param", "max depth", ascending=True),
        OrderKey("attribute", "start_time", ascending=True),
        OrderKey("tag", "mlflow.runName", ascending=True),
    ]


@pytest.mark.parametrize(
    ("entries", "field", "problem"),
    [
        (["metrics.auc", "metrics.loss sideways"], "order_by.1", "expected ASC or DESC"),
        ([""], "order_by.0", "is empty"),
        (["metrics.auc DESC extra"], "order_by.0", "unexpected 'extra'"),
        (["attributes.colour"], "order_by.0", "unknown attribute"),
    ],
)
def test_bad_order_by_names_the_entry(entries: list[str], field: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_order_by(entries)
    assert caught.value.field == field
    assert problem in str(caught.value)
