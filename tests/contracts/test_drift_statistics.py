"""One contract suite for every drift statistic, plus checks against scipy on raw samples."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from shipyard.contracts import (
    ChiSquare,
    DriftStatistic,
    JensenShannon,
    KolmogorovSmirnov,
    PopulationStability,
    parse_contract,
    suggest_contract,
    validate_table,
)
from shipyard.contracts._drift import bin_counts, numeric_reference

STATISTICS: list[DriftStatistic] = [
    PopulationStability(),
    KolmogorovSmirnov(),
    JensenShannon(),
    ChiSquare(),
]
REFERENCE = np.array([100, 200, 300, 250, 150], dtype=np.int64)


@pytest.fixture(params=STATISTICS, ids=lambda s: s.name)
def statistic(request: pytest.FixtureRequest) -> DriftStatistic:
    return request.param  # type: ignore[no-any-return]


def test_identical_histograms_show_no_drift(statistic: DriftStatistic) -> None:
    measure = statistic.measure(REFERENCE, REFERENCE * 3)
    assert measure.value == pytest.approx(0.0, abs=1e-9)
    if measure.p_value is not None:
        assert measure.p_value == pytest.approx(1.0)


def test_a_bigger_shift_measures_more(statistic: DriftStatistic) -> None:
    small = statistic.measure(REFERENCE, np.array([110, 210, 290, 240, 150]))
    large = statistic.measure(REFERENCE, np.array([400, 300, 150, 100, 50]))
    assert 0 < small.value < large.value
    if large.p_value is not None:
        assert large.p_value < small.p_value  # type: ignore[operator]
        assert 0.0 <= large.p_value <= 1.0


def test_values_are_finite_with_empty_bins(statistic: DriftStatistic) -> None:
    measure = statistic.measure(REFERENCE, np.array([0, 0, 0, 0, 1000]))
    assert np.isfinite(measure.value)


def test_distances_are_bounded() -> None:
    js = JensenShannon().measure(np.array([10, 0]), np.array([0, 10]))
    assert js.value == pytest.approx(1.0)
    ks = KolmogorovSmirnov().measure(np.array([10, 0]), np.array([0, 10]))
    assert ks.value == pytest.approx(1.0)


def test_psi_matches_its_formula_on_ten_bins() -> None:
    reference = np.full(10, 100, dtype=np.int64)
    current = np.array([50, 50, 100, 100, 100, 100, 100, 100, 150, 150], dtype=np.int64)
    expected = 4 * (0.05 * np.log(1.5)) + 0  # two bins at 5% -> -0.05*ln(0.5)
    expected = 2 * (-0.05 * np.log(0.5)) + 2 * (0.05 * np.log(1.5))
    assert PopulationStability().measure(reference, current).value == pytest.approx(expected)


def test_chi_square_matches_scipy() -> None:
    current = np.array([120, 180, 310, 240, 150])
    expected = stats.chi2_contingency(np.vstack([REFERENCE, current]), correction=False)
    measure = ChiSquare().measure(REFERENCE, current)
    assert measure.value == pytest.approx(expected.statistic)
    assert measure.p_value == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.2, 0.5])
def test_binned_ks_is_close_to_scipy_on_samples(shift: float) -> None:
    rng = np.random.default_rng(3)
    baseline = np.sort(rng.normal(size=20_000))
    current = np.sort(rng.normal(loc=shift, size=5_000))
    reference = numeric_reference(baseline)
    assert reference is not None
    counts = bin_counts(current, np.asarray(reference.edges))
    binned = KolmogorovSmirnov().measure(np.asarray(reference.counts), counts)
    exact = stats.ks_2samp(baseline, current)
    assert binned.value <= exact.statistic + 1e-12
    assert binned.value == pytest.approx(exact.statistic, abs=0.011)
    assert (binned.p_value < 0.01) == (exact.pvalue < 0.01)  # type: ignore[operator]


def test_report_states_thresholds_and_flags_drift() -> None:
    rng = np.random.default_rng(5)
    base = pa.table(
        {
            "x": rng.normal(size=5_000),
            "c": rng.choice(["a", "b", "c"], size=5_000, p=[0.5, 0.3, 0.2]),
        }
    )
    contract = suggest_contract(base, name="d")
    same = validate_table(contract, base)
    assert [d.drifted for d in same.drift] == [False, False]
    moved = pa.table(
        {
            "x": rng.normal(loc=1.0, size=2_000),
            "c": rng.choice(["a", "b", "c"], size=2_000, p=[0.1, 0.2, 0.7]),
        }
    )
    report = validate_table(contract, moved)
    x, c = report.drift
    assert x.drifted and c.drifted and report.status == "warned"
    assert x.thresholds == {"psi": 0.2, "ks": 0.1} and c.thresholds == {"js": 0.1}
    assert set(x.statistics) == {"psi", "ks", "ks_p_value"}
    assert set(c.statistics) == {"js", "chi2", "chi2_p_value"}
    assert any(r.startswith("psi ") for r in x.reasons)
    assert [b.label for b in c.bins] == ["a", "b", "c"]
    assert sum(b.current for b in x.bins) == pytest.approx(1.0)
    assert "PSI" in report.drift_method and ">= 0.2" in report.drift_method
    strict = parse_contract(contract.model_dump(mode="json") | {"drift": {"severity": "error"}})
    small = validate_table(strict, moved.slice(0, 500))
    assert small.status == "failed"
    x, c = small.drift
    assert x.thresholds == {"ks_p_value": 0.05} and c.thresholds == {"chi2_p_value": 0.05}
    assert x.reasons[0].startswith("ks p value ") and x.drifted and c.drifted
    quiet = validate_table(strict, base.slice(0, 1000))
    assert quiet.status == "passed", [d.reasons for d in quiet.drift]
