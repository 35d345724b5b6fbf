"""Reference histograms from a baseline, current histograms on the same bins, and drift verdicts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shipyard.contracts._drift_stats import (
    CATEGORICAL_STATISTICS,
    NUMERIC_STATISTICS,
    Counts,
    DriftStatistic,
    Measure,
)
from shipyard.schemas.contract_report import DriftBin, DriftResult
from shipyard.schemas.contract_spec import CategoricalReference, DriftPolicy, NumericReference
from shipyard.statistics import NUMERIC as NUMERIC_KINDS
from shipyard.statistics import ColumnSummary

REFERENCE_BINS = 100
MAX_CATEGORIES = 50
HISTOGRAM_BARS = 20


def numeric_reference(ordered: np.ndarray) -> NumericReference | None:
    """Edges at the baseline's percentiles (rounded to 7 digits) and the counts between them."""
    finite = ordered[np.isfinite(ordered)] if ordered.dtype.kind == "f" else ordered
    if len(finite) == 0:
        return None
    quantiles = np.quantile(finite, np.linspace(0.0, 1.0, REFERENCE_BINS + 1), method="lower")
    edges = np.unique([float(f"{q:.7g}") for q in quantiles.tolist()])
    counts = bin_counts(ordered, edges)
    return NumericReference(
        count=len(ordered), edges=edges.tolist(), counts=[int(c) for c in counts]
    )


def bin_counts(ordered: np.ndarray, edges: np.ndarray) -> Counts:
    """Counts of sorted values in the bins (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    at = np.searchsorted(ordered, edges, side="right")
    return np.diff(np.concatenate(([0], at, [len(ordered)]))).astype(np.int64)


def as_categories(present: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Values as the strings categories are keyed by (booleans as true/false)."""
    return present if pa.types.is_string(present.type) else present.cast(pa.string())


def categorical_reference(present: pa.ChunkedArray) -> CategoricalReference | None:
    """The most frequent categories (ties by value) and the count of all others."""
    if len(present) == 0:
        return None
    counts = pc.value_counts(as_categories(present))
    ranked = sorted(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True),
        key=lambda pair: (-pair[1], pair[0]),
    )
    kept = dict(ranked[:MAX_CATEGORIES])
    return CategoricalReference(
        count=len(present), values=kept, other=len(present) - sum(kept.values())
    )


def category_counts(present: pa.ChunkedArray, categories: pa.Array) -> Counts:
    """Counts per reference category, and last the count of values outside them."""
    counts = pc.value_counts(as_categories(present))
    index = pc.index_in(counts.field("values"), value_set=categories)
    slots = pc.fill_null(index, len(categories)).to_numpy()
    weights = counts.field("counts").to_numpy()
    return np.bincount(slots, weights=weights, minlength=len(categories) + 1).astype(np.int64)


def describe_method(policy: DriftPolicy) -> str:
    """The statistics and thresholds a drift verdict rests on, for the report."""
    return (
        f"numeric: PSI over 10 reference-decile bins and the Kolmogorov-Smirnov statistic at "
        f"the reference's {REFERENCE_BINS} quantile edges (p-value: scipy.stats.kstwo); "
        f"categorical: Jensen-Shannon distance (base 2) and the chi-square test of "
        f"homogeneity (scipy.stats.chi2_contingency). A column with more than "
        f"{policy.small_sample} current values drifts when PSI >= {policy.psi}, KS >= "
        f"{policy.ks} or JS >= {policy.js}; a smaller one when the KS or chi-square p-value "
        f"< {policy.p_value}. Severity {policy.severity}."
    )


def thresholds_for(kind: str, values: int, policy: DriftPolicy) -> dict[str, float]:
    """Distances on large samples (p-values flag negligible shifts), p-values on small ones."""
    if values <= policy.small_sample:
        return {f"{'ks' if kind == 'numeric' else 'chi2'}_p_value": policy.p_value}
    return {"psi": policy.psi, "ks": policy.ks} if kind == "numeric" else {"js": policy.js}


def numeric_drift(
    column: str, reference: NumericReference, current: Counts, policy: DriftPolicy
) -> DriftResult:
    ref = np.asarray(reference.counts, dtype=np.int64)
    thresholds = thresholds_for("numeric", int(current.sum()), policy)
    statistics = _flatten(_measure(NUMERIC_STATISTICS, ref, current))
    reasons = _reasons(statistics, thresholds)
    return DriftResult(
        column=column,
        kind="numeric",
        reference_count=reference.count,
        current_count=int(current.sum()),
        statistics=statistics,
        thresholds=thresholds,
        drifted=bool(reasons),
        severity=policy.severity,
        reasons=reasons,
        bins=_numeric_bars(reference.edges, ref, current),
    )


def categorical_drift(
    column: str, reference: CategoricalReference, current: Counts, policy: DriftPolicy
) -> DriftResult:
    ref = np.asarray([*reference.values.values(), reference.other], dtype=np.int64)
    thresholds = thresholds_for("categorical", int(current.sum()), policy)
    statistics = _flatten(_measure(CATEGORICAL_STATISTICS, ref, current))
    reasons = _reasons(statistics, thresholds)
    labels = [*reference.values, "(other)"]
    return DriftResult(
        column=column,
        kind="categorical",
        reference_count=reference.count,
        current_count=int(current.sum()),
        statistics=statistics,
        thresholds=thresholds,
        drifted=bool(reasons),
        severity=policy.severity,
        reasons=reasons,
        bins=[
            DriftBin(label=label, reference=r / ref.sum(), current=_share(c, current))
            for label, r, c in zip(labels, ref.tolist(), current.tolist(), strict=True)
            if r or c
        ],
    )


def _measure(
    statistics: tuple[DriftStatistic, ...], reference: Counts, current: Counts
) -> dict[str, Measure | None]:
    if current.sum() == 0:
        return {s.name: None for s in statistics}
    return {s.name: s.measure(reference, current) for s in statistics}


def _reasons(statistics: dict[str, float | None], thresholds: dict[str, float]) -> list[str]:
    reasons = []
    for name, limit in thresholds.items():
        value = statistics.get(name)
        if value is None:
            continue
        if name.endswith("_p_value") and value < limit:
            reasons.append(f"{name.replace('_', ' ')} {value:.3g} < {limit}")
        elif not name.endswith("_p_value") and value >= limit:
            reasons.append(f"{name} {value:.4g} >= {limit}")
    return reasons


def _flatten(measures: dict[str, Measure | None]) -> dict[str, float | None]:
    flat: dict[str, float | None] = {}
    for name, measure in measures.items():
        flat[name] = None if measure is None else measure.value
        if measure is None or measure.p_value is not None:
            flat[f"{name}_p_value"] = None if measure is None else measure.p_value
    return flat


def _share(count: int, counts: Counts) -> float:
    total = int(counts.sum())
    return count / total if total else 0.0


def _numeric_bars(edges: list[float], reference: Counts, current: Counts) -> list[DriftBin]:
    total = reference.sum()
    middle = (np.cumsum(reference) - reference / 2) / total
    group = np.minimum((middle * HISTOGRAM_BARS).astype(np.int64), HISTOGRAM_BARS - 1)
    bars = []
    for g in np.unique(group).tolist():
        members = np.flatnonzero(group == g)
        first, last = int(members[0]), int(members[-1])
        lower = edges[first - 1] if first > 0 else None
        upper = edges[last] if last < len(edges) else None
        ref, cur = int(reference[members].sum()), int(current[members].sum())
        if not (ref or cur):
            continue
        bars.append(
            DriftBin(
                label=f"({'-inf' if lower is None else f'{lower:.4g}'}, "
                f"{'inf' if upper is None else f'{upper:.4g}'}]",
                lower=lower,
                upper=upper,
                reference=ref / total,
                current=_share(cur, current),
            )
        )
    return bars


def summary_reference(summary: ColumnSummary) -> NumericReference | CategoricalReference | None:
    """A drift reference from a column's summary (a stored baseline, no rows needed).

    Numeric: edges at the summary's percentiles, counts from its quantile sketch (exact
    while the sketch is). Categorical: its most frequent values, the rest as ``other``.
    """
    if summary.count == 0:
        return None
    if summary.kind in NUMERIC_KINDS:
        cuts = np.asarray(summary.quantile(np.linspace(0.0, 1.0, REFERENCE_BINS + 1).tolist()))
        finite = cuts[np.isfinite(cuts)]
        if len(finite) == 0:
            return None
        edges = np.unique([float(f"{q:.7g}") for q in finite.tolist()])
        counts = summary.histogram(edges)
        return NumericReference(
            count=summary.count, edges=edges.tolist(), counts=[int(c) for c in counts]
        )
    if summary.top is None:
        return None
    ranked = sorted(
        ((_label(v), c) for v, c in summary.category_counts().items()),
        key=lambda pair: (-pair[1], pair[0]),
    )
    kept = dict(ranked[:MAX_CATEGORIES])
    return CategoricalReference(
        count=summary.count, values=kept, other=summary.count - sum(kept.values())
    )


def summary_counts(
    summary: ColumnSummary, reference: NumericReference | CategoricalReference
) -> Counts:
    """A column summary's histogram on a reference's bins (categories, then all others)."""
    if isinstance(reference, NumericReference):
        return summary.histogram(np.asarray(reference.edges, dtype=np.float64))
    seen = {_label(v): c for v, c in summary.category_counts().items()}
    counts = [seen.get(label, 0) for label in reference.values]
    return np.asarray([*counts, summary.count - sum(counts)], dtype=np.int64)


def _label(value: object) -> str:
    """A category as references key it (booleans as true/false, as Arrow casts them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
