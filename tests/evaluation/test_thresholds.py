"""Validation thresholds decide as MLflow's ``MetricThreshold`` and ``_validate`` do.

Each row: a rule, the candidate's and the baseline's value (None: missing), and the parts
that fail under MLflow's rules (threshold; candidate >= baseline + min_absolute_change or
<= baseline - it; relative change (c - b) / b, or (b - c) / b when lower is better, at
least min_relative_change; with a zero baseline any improvement of 1e-10; a comparison
with no baseline value fails; every set part must hold).
"""

from __future__ import annotations

import pytest

from shipyard.errors import InvalidInput
from shipyard.evaluation import MetricThreshold, parse_thresholds, validate
from shipyard.schemas.thresholds import checked_thresholds

Row = tuple[str, str, dict[str, float], float | None, float | None, set[str]]

ROWS: list[Row] = [
    # id, metric, rule, candidate, baseline, failing parts
    ("threshold met exactly", "auc", {"threshold": 0.9}, 0.9, None, set()),
    ("threshold missed", "auc", {"threshold": 0.9}, 0.8999, None, {"auc>=0.9"}),
    ("lower is better, met", "rmse", {"threshold": 3.0}, 2.5, None, set()),
    ("lower is better, missed", "rmse", {"threshold": 3.0}, 3.01, None, {"rmse<=3"}),
    ("absolute change met", "auc", {"min_absolute_change": 0.01}, 0.86, 0.85, set()),
    (  # 0.2 + 0.1 is 0.30000000000000004 in floats: MLflow compares Decimals of those
        "absolute change at a float edge fails as in MLflow",
        "auc",
        {"min_absolute_change": 0.1},
        0.3,
        0.2,
        {"min_absolute_change=0.1"},
    ),
    (
        "absolute change missed",
        "auc",
        {"min_absolute_change": 0.01},
        0.855,
        0.85,
        {"min_absolute_change=0.01"},
    ),
    ("absolute change, lower better", "rmse", {"min_absolute_change": 0.5}, 2.5, 3.0, set()),
    (
        "absolute change, lower better, missed",
        "rmse",
        {"min_absolute_change": 0.5},
        2.6,
        3.0,
        {"min_absolute_change=0.5"},
    ),
    ("relative change met", "accuracy", {"min_relative_change": 0.05}, 0.85, 0.8, set()),
    (
        "relative change missed",
        "accuracy",
        {"min_relative_change": 0.05},
        0.83,
        0.8,
        {"min_relative_change=0.05"},
    ),
    ("relative, lower better", "mae", {"min_relative_change": 0.1}, 1.7, 2.0, set()),
    (
        "relative, lower better, missed",
        "mae",
        {"min_relative_change": 0.1},
        1.81,
        2.0,
        {"min_relative_change=0.1"},
    ),
    ("relative, zero baseline, improved", "r2", {"min_relative_change": 0.5}, 1e-9, 0.0, set()),
    (
        "relative, zero baseline, equal",
        "r2",
        {"min_relative_change": 0.5},
        0.0,
        0.0,
        {"min_relative_change=0.5"},
    ),
    (
        "relative, zero baseline, lower better",
        "mse",
        {"min_relative_change": 0.5},
        -1e-9,
        0.0,
        set(),
    ),
    (
        "both changes must hold: absolute fails",
        "auc",
        {"min_absolute_change": 0.05, "min_relative_change": 0.01},
        0.82,
        0.8,
        {"min_absolute_change=0.05"},
    ),
    (
        "both changes must hold: relative fails",
        "auc",
        {"min_absolute_change": 0.01, "min_relative_change": 0.1},
        0.82,
        0.8,
        {"min_relative_change=0.1"},
    ),
    (
        "all three fail",
        "auc",
        {"threshold": 0.9, "min_absolute_change": 0.05, "min_relative_change": 0.1},
        0.8,
        0.8,
        {"auc>=0.9", "min_absolute_change=0.05", "min_relative_change=0.1"},
    ),
    (
        "comparison without a baseline fails",
        "auc",
        {"min_absolute_change": 0.01},
        0.9,
        None,
        {"baseline"},
    ),
    ("threshold needs no baseline", "auc", {"threshold": 0.5}, 0.9, None, set()),
    (
        "threshold checked even when the baseline is missing",
        "auc",
        {"threshold": 0.95, "min_relative_change": 0.01},
        0.9,
        None,
        {"auc>=0.95", "baseline"},
    ),
    ("missing from the candidate", "auc", {"threshold": 0.5}, None, 0.9, {"present"}),
]


@pytest.mark.parametrize(
    ("metric", "rule", "candidate", "baseline", "failing"),
    [r[1:] for r in ROWS],
    ids=[r[0] for r in ROWS],
)
def test_rules_decide_as_mlflow(
    metric: str,
    rule: dict[str, float],
    candidate: float | None,
    baseline: float | None,
    failing: set[str],
) -> None:
    thresholds = checked_thresholds({metric: MetricThreshold(**rule)})
    results = validate(
        thresholds,
        {metric: candidate} if candidate is not None else {},
        {metric: baseline} if baseline is not None else {},
    )
    assert {r.rule for r in results if not r.passed} == failing
    for r in results:
        if not r.passed and r.candidate is not None:
            assert metric in r.message and f"{r.candidate:.6g}" in r.message
            if r.baseline is not None:
                assert f"baseline {r.baseline:.6g}" in r.message


def test_text_rules_parse_into_one_rule_per_metric() -> None:
    rules = parse_thresholds(
        ["auc>=0.9", "log_loss<=0.3"], ["auc=0.01"], ["auc=0.05", "log_loss=0.1"]
    )
    assert rules == {
        "auc": MetricThreshold(
            threshold=0.9,
            min_absolute_change=0.01,
            min_relative_change=0.05,
            greater_is_better=True,
        ),
        "log_loss": MetricThreshold(
            threshold=0.3, min_relative_change=0.1, greater_is_better=False
        ),
    }


@pytest.mark.parametrize(
    ("rules", "absolute", "relative", "field", "words"),
    [
        (["auc > 0.9"], [], [], "threshold", "METRIC>=VALUE"),
        (["auc>=high"], [], [], "threshold", "not a number"),
        (["auc<=0.9"], [], [], "threshold", "write auc>="),
        (["rmse>=1"], [], [], "threshold", "write rmse<="),
        (["accuracy_score>=0.9"], [], [], "threshold", "unknown metric 'accuracy_score'"),
        (["auc>=nan"], [], [], "threshold", "finite"),
        ([], ["auc:0.1"], [], "min_absolute_change", "METRIC=VALUE"),
        ([], ["auc=0"], [], "thresholds.auc.min_absolute_change", "positive"),
        ([], ["auc=-0.1"], [], "thresholds.auc.min_absolute_change", "positive"),
        ([], [], ["auc=1.5"], "thresholds.auc.min_relative_change", "between 0 and 1"),
        ([], [], ["bogus=0.1"], "min_relative_change", "unknown metric 'bogus'"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(
    rules: list[str], absolute: list[str], relative: list[str], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_thresholds(rules, absolute, relative)
    assert refused.value.field == field
    assert words in refused.value.message


def test_a_metric_of_another_task_or_direction_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_thresholds({"rmse": MetricThreshold(threshold=1.0)}, "classification")
    assert refused.value.field == "thresholds.rmse"
    with pytest.raises(InvalidInput) as refused:
        checked_thresholds({"auc": MetricThreshold(threshold=0.9, greater_is_better=False)})
    assert refused.value.field == "thresholds.auc.greater_is_better"
    with pytest.raises(InvalidInput) as refused:
        checked_thresholds({"auc": MetricThreshold()})
    assert "no threshold" in refused.value.message
