"""Rollout plans: durations, each strategy's traffic steps, and the weights of a step."""

from __future__ import annotations

import pytest

from shipyard.deploy import parse_duration, step_weights, traffic_steps
from shipyard.errors import InvalidInput


def test_durations() -> None:
    assert parse_duration("60s", field="bake") == 60
    assert parse_duration("500ms", field="bake") == 0.5
    assert parse_duration("2m", field="bake") == 120
    assert parse_duration("1h", field="bake") == 3600
    assert parse_duration("90", field="bake") == 90
    assert parse_duration(1.5, field="bake") == 1.5
    for bad in ("soon", "-1s", "5 days", "8h00", "999h"):
        with pytest.raises(InvalidInput) as caught:
            parse_duration(bad, field="bake")
        assert caught.value.field == "bake"


def test_steps_of_each_strategy() -> None:
    assert traffic_steps("canary", 10, 25) == [10, 100]
    assert traffic_steps("linear", 10, 25) == [25, 50, 75, 100]
    assert traffic_steps("linear", 10, 30) == [30, 60, 90, 100]
    assert traffic_steps("linear", 10, 100) == [100]
    assert traffic_steps("all-at-once", 10, 25) == [100]
    for strategy, canary, step, field in [
        ("canary", 0, 25, "canary_percent"),
        ("canary", 100, 25, "canary_percent"),
        ("linear", 10, 0, "step_percent"),
        ("linear", 10, 150, "step_percent"),
        ("blue-green", 10, 25, "strategy"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            traffic_steps(strategy, canary, step)
        assert caught.value.field == field


def test_old_variants_split_the_rest_as_before() -> None:
    assert step_weights({"primary": 1}, "new", 10) == {"primary": 90, "new": 10}
    assert step_weights({"a": 3, "b": 1}, "new", 20) == {"a": 60, "b": 20, "new": 20}
    assert step_weights({"a": 3, "b": 1}, "new", 100) == {"a": 0, "b": 0, "new": 100}
