"""A/B results end to end: stats windows and captured predictions joined with posted feedback.

The tests write what serving workers write (variant_stats rows, capture Parquet
files in the agreed layout) and post labels through the SDK, then check the
report against the numbers worked out by hand in test_ab_statistics.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.endpoints.endpointkit import MODEL, register_versions, write_capture, write_stats

from shipyard.client import Client, LocalTransport
from shipyard.endpoints._compare import quality_results
from shipyard.endpoints._quality import LabelledPairs
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.platform import Platform
from shipyard.security import context_for


def _traffic(
    variant: str, correct: int, total: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Captured answers of ``total`` requests and their labels, ``correct`` of them right."""
    captured, labels = [], []
    for i in range(total):
        rid = f"{variant}-{i}"
        captured.append({"request_id": rid, "variant": variant, "prediction": 1})
        labels.append({"request_id": rid, "label": 1 if i < correct else 0})
    return captured, labels


def test_compare_reports_traffic_quality_and_significance(
    client: Client, platform: Platform
) -> None:
    register_versions(platform, 3)
    client.endpoints.create(
        "bc",
        variants=[
            {"name": "primary", "model": f"{MODEL}@1", "weight": 60},
            {"name": "challenger", "model": f"{MODEL}@2", "weight": 40},
        ],
        shadow={"model": f"{MODEL}@3", "percent": 100},
    )
    empty = client.endpoints.compare("bc")
    assert "no feedback yet" in empty.note
    assert [v.name for v in empty.variants] == ["challenger", "primary", "shadow"]

    write_stats(platform, "bc", "primary", requests=200, errors=2, latency_ms=4)
    write_stats(platform, "bc", "challenger", requests=200, errors=0, latency_ms=40)
    write_stats(platform, "bc", "shadow", requests=200, agreements=150, comparisons=200)
    primary, primary_labels = _traffic("primary", 160, 200)
    challenger, challenger_labels = _traffic("challenger", 180, 200)
    shadow = [
        {**r, "variant": "shadow", "prediction": 0 if i < 20 else 1} for i, r in enumerate(primary)
    ]
    write_capture(platform, "bc", primary + shadow)
    write_capture(platform, "bc", challenger)
    multi = {"request_id": "multi", "variant": "challenger", "prediction": [1, 0]}
    write_capture(platform, "bc", [multi])
    labels = [
        *primary_labels,
        *challenger_labels,
        {"request_id": "multi", "label": [1, 0]},
        {"request_id": "never-captured", "label": 1},
    ]
    receipt = client.endpoints.feedback("bc", labels)
    assert (receipt.accepted, receipt.replaced) == (len(labels), 0)
    again = client.endpoints.feedback("bc", labels[:5])
    assert again.replaced == 5

    report = client.endpoints.compare("bc", since="1h")
    assert (report.task, report.metric, report.baseline) == (
        "classification",
        "accuracy",
        "primary",
    )
    assert (report.labelled, report.matched) == (402, 401)
    by_name = {v.name: v for v in report.variants}
    assert by_name["primary"].live.requests == 200
    assert by_name["primary"].live.error_rate == pytest.approx(0.01)
    assert by_name["challenger"].live.p50_latency_ms == pytest.approx(37.5)  # 25 + 25 * 100/200
    assert by_name["shadow"].live.shadow_agreement == pytest.approx(0.75)
    quality = by_name["primary"].quality
    assert quality is not None
    assert (quality.n, quality.value) == (200, pytest.approx(0.8))
    assert (quality.ci_low, quality.ci_high) == pytest.approx((0.739145, 0.849548), abs=1e-6)
    challenger_quality = by_name["challenger"].quality
    assert challenger_quality is not None and challenger_quality.n == 202
    assert by_name["shadow"].quality.value == pytest.approx(0.7)  # type: ignore[union-attr]
    versus = {c.variant: c for c in report.comparisons}
    assert versus["challenger"].test == "two-proportion z-test"
    assert versus["challenger"].significant
    assert "significantly better" in versus["challenger"].statement
    assert versus["shadow"].significant and "worse" in versus["shadow"].statement


def test_feedback_input_is_checked(client: Client, platform: Platform) -> None:
    register_versions(platform, 1)
    client.endpoints.create("bc", f"{MODEL}@1")
    with pytest.raises(InvalidInput) as empty:
        client.transport.call("endpoints.feedback", name="bc", records=[])
    assert empty.value.field == "records"
    with pytest.raises(InvalidInput) as long_id:
        client.endpoints.feedback("bc", [{"request_id": "x" * 65, "label": 1}])
    assert long_id.value.field == "records.0.request_id"
    with pytest.raises(InvalidInput) as no_label:
        client.endpoints.feedback("bc", [{"request_id": "a", "label": None}])
    assert no_label.value.field == "records.0.label"
    with pytest.raises(NotFound):
        client.endpoints.feedback("nosuch", [{"request_id": "a", "label": 1}])


def test_regression_quality_uses_rmse_and_the_bootstrap() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(10, 3, 300)
    pairs = LabelledPairs(
        pairs={
            "primary": list(zip(truth + rng.normal(0, 1, 300), truth, strict=True)),
            "challenger": list(zip(truth + rng.normal(0, 2, 300), truth, strict=True)),
        },
        labelled=600,
        matched=600,
    )
    qualities, comparisons = quality_results(pairs, "regression", "primary", 0.95)
    assert qualities["primary"].metric == "rmse"
    assert qualities["primary"].ci_low < qualities["primary"].value < qualities["primary"].ci_high
    assert qualities["primary"].value == pytest.approx(1.0, abs=0.15)
    [versus] = comparisons
    assert (versus.variant, versus.test, versus.significant) == ("challenger", "bootstrap", True)
    assert versus.difference > 0 and "worse" in versus.statement


def test_bandit_moves_traffic_toward_the_better_variant(platform: Platform) -> None:
    register_versions(platform, 2)
    sdk = Client(transport=LocalTransport(platform, context_for(platform, "admin")))
    sdk.endpoints.create(
        "bc",
        variants=[
            {"name": "primary", "model": f"{MODEL}@1", "weight": 50},
            {"name": "challenger", "model": f"{MODEL}@2", "weight": 50},
        ],
    )
    with pytest.raises(Conflict) as off:
        sdk.endpoints.bandit_step("bc")
    assert off.value.field == "bandit"
    enabled = sdk.endpoints.bandit("bc", interval="30s", min_percent=5)
    assert enabled.bandit["enabled"] and enabled.bandit["interval_seconds"] == 30
    primary, primary_labels = _traffic("primary", 60, 100)
    challenger, challenger_labels = _traffic("challenger", 90, 100)
    write_capture(platform, "bc", primary + challenger)
    sdk.endpoints.feedback("bc", primary_labels + challenger_labels)
    step = sdk.endpoints.bandit_step("bc", seed=0)
    arms = {a.variant: a for a in step.arms}
    assert (arms["challenger"].successes, arms["challenger"].failures) == (90, 10)
    assert arms["challenger"].posterior_mean == pytest.approx(91 / 102)
    assert step.weights["challenger"] == pytest.approx(95, abs=0.1)
    assert step.weights["primary"] == pytest.approx(5, abs=0.1)
    served = sdk.endpoints.get("bc")
    assert served.weights == step.weights and served.generation == step.generation
    with pytest.raises(InvalidInput):
        sdk.endpoints.bandit("bc", min_percent=60)
