"""The statistics behind A/B results, checked against hand computations and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from tests.endpoints.endpointkit import write_stats

from shipyard.endpoints import variant_metrics
from shipyard.endpoints._statistics import (
    bootstrap_rmse_difference,
    bootstrap_rmse_interval,
    histogram_quantile,
    probability_best,
    rmse,
    two_proportion_z_test,
    wilson_interval,
)
from shipyard.platform import Platform


def test_wilson_interval_by_hand_and_scipy() -> None:
    # p = 0.8, n = 200, z = 1.95996: center (0.8 + z²/400) / (1 + z²/200) = 0.79435,
    # half-width z * sqrt(0.8 * 0.2 / 200 + z² / 160000) / (1 + z²/200) = 0.05520
    low, high = wilson_interval(160, 200)
    assert (low, high) == pytest.approx((0.739145, 0.849548), abs=1e-6)
    for successes, n, level in [(3, 10, 0.9), (0, 25, 0.95), (50, 50, 0.99)]:
        reference = scipy.stats.binomtest(successes, n).proportion_ci(level, method="wilson")
        assert wilson_interval(successes, n, level) == pytest.approx(
            (reference.low, reference.high), abs=1e-9
        )
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_two_proportion_z_test_by_hand() -> None:
    # 180/200 against 160/200: pooled p = 0.85, se = sqrt(0.85 * 0.15 * 2/200) = 0.035707,
    # z = 0.1 / 0.035707 = 2.8006, two-sided p = 2 * (1 - Phi(2.8006)) = 0.005101
    result = two_proportion_z_test(180, 200, 160, 200)
    assert result.difference == pytest.approx(0.1)
    assert result.p_value == pytest.approx(0.0051014, abs=1e-6)
    assert result.p_value == pytest.approx(2 * scipy.stats.norm.sf(0.1 / math.sqrt(0.001275)))
    # unpooled interval: 0.1 ± 1.95996 * sqrt(0.9*0.1/200 + 0.8*0.2/200) = 0.1 ± 0.069296
    assert (result.low, result.high) == pytest.approx((0.030704, 0.169296), abs=1e-6)
    assert two_proportion_z_test(90, 100, 88, 100).p_value > 0.05
    assert two_proportion_z_test(10, 10, 10, 10).p_value == 1.0


def test_histogram_quantiles_interpolate_inside_the_bucket() -> None:
    buckets = [(1.0, 10), (2.0, 30), (5.0, 60), (math.inf, 0)]
    assert histogram_quantile(buckets, 0.5) == pytest.approx(2.5)  # 2 + 3 * (50 - 40) / 60
    assert histogram_quantile(buckets, 0.1) == pytest.approx(1.0)  # 0 + 1 * 10 / 10
    assert histogram_quantile(buckets, 0.99) == pytest.approx(4.95)  # 2 + 3 * 59 / 60
    assert histogram_quantile([(50.0, 0), (100.0, 200)], 0.99) == pytest.approx(99.5)
    assert histogram_quantile([(10.0, 1), (math.inf, 9)], 0.99) == 10.0
    assert histogram_quantile([(1.0, 0)], 0.5) is None


def test_bootstrap_rmse() -> None:
    rng = np.random.default_rng(3)
    good = rng.normal(0, 1.0, 400)
    bad = rng.normal(0, 1.5, 400)
    low, high = bootstrap_rmse_interval(good)
    assert low < rmse(good) < high
    assert bootstrap_rmse_interval(good) == (low, high)  # seeded: the same every time
    assert 0.85 < low < 1.0 < high < 1.15
    worse = bootstrap_rmse_difference(bad, good)
    assert worse.difference == pytest.approx(rmse(bad) - rmse(good))
    assert worse.low > 0 and worse.p_value < 0.05
    same = bootstrap_rmse_difference(good[:200], good[200:])
    assert same.low < 0 < same.high and same.p_value > 0.05


def test_thompson_sampling_prefers_the_better_arm() -> None:
    best = probability_best([90, 60], [10, 40], 20_000, np.random.default_rng(0))
    assert best[0] > 0.99 and sum(best) == pytest.approx(1.0)
    even = probability_best([0, 0], [0, 0], 20_000, np.random.default_rng(0))
    assert even[0] == pytest.approx(0.5, abs=0.02)


def test_variant_metrics_sum_workers_and_windows(platform: Platform) -> None:
    now = 1_000_000.0
    write_stats(platform, "e", "a", requests=100, errors=2, latency_ms=3, window_start=now)
    write_stats(
        platform, "e", "a", requests=50, errors=1, latency_ms=30, window_start=now, worker="w2"
    )
    write_stats(platform, "e", "a", requests=50, errors=0, latency_ms=30, window_start=now + 10)
    write_stats(platform, "e", "a", requests=999, errors=999, window_start=now - 60)
    write_stats(platform, "e", "b", requests=10, errors=0, window_start=now)
    with platform.db.session() as session:
        found = variant_metrics(session, "e", since=now + 5, variants=["a", "c"])
    assert set(found) == {"a", "c"}
    a = found["a"]
    assert (a.requests, a.errors) == (200, 3)
    assert a.error_rate == pytest.approx(0.015)
    assert a.mean_latency_ms == pytest.approx((300 + 1500 + 1500) / 200)
    # 100 requests in (2.5, 5] ms, 100 in (25, 50] ms: p50 at the top of the first bucket
    assert a.p50_latency_ms == pytest.approx(5.0)
    assert a.p99_latency_ms == pytest.approx(25 + 25 * 98 / 100)
    assert found["c"].requests == 0 and found["c"].error_rate is None
