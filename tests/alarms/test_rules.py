"""The alarm state machine: M of N, missing data, minimum samples, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shipyard.alarms import Datapoint, Rule, classify

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _points(*values: float | None, samples: int = 100) -> list[Datapoint]:
    return [
        Datapoint(START + timedelta(minutes=i), v, 0 if v is None else samples)
        for i, v in enumerate(values)
    ]


def test_three_of_five_breaching_datapoints_alarm() -> None:
    rule = Rule(">", 0.05, evaluation_periods=5, datapoints_to_alarm=3)
    verdict = rule.evaluate(_points(0.1, 0.01, 0.2, 0.02, 0.3), "OK")
    assert (verdict.state, verdict.breaching) == ("ALARM", 3)
    assert verdict.reason.startswith("Threshold Crossed: 3 out of the last 5 datapoints [0.1 (")
    assert "were greater than the threshold (0.05)" in verdict.reason
    assert "(minimum 3 datapoints for OK -> ALARM transition)" in verdict.reason


def test_two_of_five_stay_ok() -> None:
    rule = Rule(">", 0.05, evaluation_periods=5, datapoints_to_alarm=3)
    verdict = rule.evaluate(_points(0.1, 0.01, 0.2, 0.02, 0.03), "ALARM")
    assert (verdict.state, verdict.breaching) == ("OK", 2)


def test_only_the_last_n_datapoints_count() -> None:
    rule = Rule(">=", 1.0, evaluation_periods=2, datapoints_to_alarm=2)
    assert rule.evaluate(_points(5, 5, 0, 5), "OK").state == "OK"
    assert rule.evaluate(_points(0, 0, 5, 5), "OK").state == "ALARM"


def test_a_datapoint_under_the_minimum_sample_size_is_missing() -> None:
    rule = Rule(">", 0.05, min_samples=30)
    few = [Datapoint(START, 1 / 18, 18)]  # one error in 18 requests: not enough to judge
    verdict = rule.evaluate(few, "OK")
    assert verdict.state == "INSUFFICIENT_DATA"
    assert "at least 30 samples" in verdict.reason
    assert rule.evaluate([Datapoint(START, 0.2, 30)], "OK").state == "ALARM"


@pytest.mark.parametrize(
    ("treat", "current", "expected"),
    [
        ("missing", "OK", "INSUFFICIENT_DATA"),
        ("ignore", "ALARM", "ALARM"),
        ("ignore", "OK", "OK"),
        ("breaching", "OK", "ALARM"),
        ("not_breaching", "ALARM", "OK"),
    ],
)
def test_every_datapoint_missing(treat: str, current: str, expected: str) -> None:
    rule = Rule(">", 1.0, evaluation_periods=3, datapoints_to_alarm=2, treat_missing=treat)  # type: ignore[arg-type]
    assert rule.evaluate(_points(None, None, None), current).state == expected  # type: ignore[arg-type]


def test_missing_datapoints_count_as_the_rule_says() -> None:
    # one breach among three: two missing as breaching make three of three
    assert classify([True, None, None], 3, "breaching", "OK")[0] == "ALARM"
    assert classify([True, None, None], 2, "missing", "OK")[0] == "OK"
    assert classify([True, None, None], 2, "not_breaching", "OK")[0] == "OK"
    assert classify([True, True, None], 2, "missing", "OK")[0] == "ALARM"


def test_fewer_datapoints_than_periods_are_missing() -> None:
    rule = Rule("<", 10.0, evaluation_periods=4, datapoints_to_alarm=1)
    verdict = rule.evaluate(_points(3), "INSUFFICIENT_DATA")
    assert verdict.state == "ALARM"
    assert verdict.present == 1
