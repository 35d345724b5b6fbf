"""Drift references and current counts built from a stored summary, without the rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shipyard.contracts import (
    CategoricalReference,
    NumericReference,
    summary_counts,
    summary_reference,
)
from shipyard.contracts._drift import bin_counts, numeric_reference
from shipyard.statistics import COMPACT, ColumnSummary, TableSummary


def test_a_small_numeric_summary_gives_the_exact_histograms() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1, 500)
    summary = ColumnSummary("x", "float").update(pa.array(values))
    reference = summary_reference(summary)
    assert isinstance(reference, NumericReference)
    assert reference.count == 500 and sum(reference.counts) == 500
    exact = bin_counts(np.sort(values), np.asarray(reference.edges))
    assert reference.counts == exact.tolist()
    shifted = ColumnSummary("x", "float").update(pa.array(values + 1.0))
    current = summary_counts(shifted, reference)
    assert (
        current.tolist() == bin_counts(np.sort(values + 1.0), np.asarray(reference.edges)).tolist()
    )
    assert numeric_reference(np.sort(values)) is not None


def test_categorical_references_key_booleans_as_arrow_does() -> None:
    table = pa.table({"flag": [True, True, False, None], "city": ["a", "b", "a", "c"]})
    summary = TableSummary.of(table, COMPACT)
    flag = summary_reference(summary.columns["flag"])
    assert isinstance(flag, CategoricalReference)
    assert flag.values == {"true": 2, "false": 1} and flag.count == 3
    city = summary_reference(summary.columns["city"])
    assert isinstance(city, CategoricalReference)
    later = ColumnSummary("city", "string").update(pa.array(["a", "z", "z"]))
    assert summary_counts(later, city).tolist() == [1, 0, 0, 2]
