"""Counting what a model did not see in training: null inputs and unseen categories.

Counted per request batch with vectorized numpy/pandas calls (a float matrix costs
one ``isnan`` pass; categories one hash lookup per column), on the event-loop
thread, and exported per input column in ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from prometheus_client.metrics_core import CounterMetricFamily, Metric

from shipyard.flavors._base import ModelSignature


class InputTally:
    """Null values per input column, and values outside the training categories per
    categorical column, of the requests one model version answered."""

    __slots__ = ("_categories", "_names", "nulls", "unseen")

    def __init__(self, signature: ModelSignature, known: Mapping[str, Sequence[Any]]) -> None:
        self._names = signature.input_names
        self.nulls = np.zeros(len(self._names), dtype=np.int64)
        self.unseen = np.zeros(len(self._names), dtype=np.int64)
        self._categories = [
            (position, pd.Index(list(known[name]), dtype=object))
            for position, name in enumerate(self._names)
            if name in known
        ]

    def observe(self, features: np.ndarray | pd.DataFrame) -> None:
        """Count one batch of model input (a float matrix or a DataFrame in signature order)."""
        if type(features) is np.ndarray:
            if features.ndim != 2 or features.shape[1] != len(self._names):
                return
            missing = np.isnan(features)
            if missing.any():
                self.nulls += missing.sum(axis=0)
            columns: Any = features.T
        elif isinstance(features, pd.DataFrame):
            columns = [features[name].to_numpy() for name in self._names]
            for position, values in enumerate(columns):
                self.nulls[position] += int(pd.isna(values).sum())
        else:
            return
        for position, index in self._categories:
            values = columns[position]
            outside = int(np.count_nonzero(index.get_indexer(values) < 0))
            if outside:
                self.unseen[position] += outside - int(pd.isna(values).sum())

    def add_to(self, family: CounterMetricFamily, endpoint: str, model: str, version: str) -> None:
        """Add this version's counts (zeros too, so rates start at once) to ``family``."""
        nulls, unseen = self.nulls.tolist(), self.unseen.tolist()
        for position, name in enumerate(self._names):
            family.add_metric([endpoint, model, version, name, "null"], nulls[position])
        for position, _ in self._categories:
            family.add_metric(
                [endpoint, model, version, self._names[position], "unseen_category"],
                unseen[position],
            )


def input_family() -> CounterMetricFamily:
    return CounterMetricFamily(
        "shipyard_serving_input_values",
        "Request values a model did not see in training, per input column: nulls, and "
        "categories outside those it was trained on.",
        labels=["endpoint", "model", "version", "column", "kind"],
    )


def input_metrics(endpoint: str, tallies: Iterator[tuple[str, str, InputTally]]) -> Metric:
    """One family over the tallies of every model version the app serves."""
    family = input_family()
    for model, version, tally in tallies:
        tally.add_to(family, endpoint, model, version)
    return family
