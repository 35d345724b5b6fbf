"""Counting what a model did not see in training: null inputs and unseen categories.

Counted per request batch, per column array, as ``FeatureBuilder`` checks it: a
float column costs one summing pass (an exact ``isnan`` count only when the sum is
NaN), a text column one C-level count of None and one set lookup per value through
``map``. Batches of plain JSON numbers take the fast path, which cannot hold nulls,
and are not counted. Exported per input column in ``/metrics``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from prometheus_client.metrics_core import CounterMetricFamily, Metric

from shipyard.flavors._base import ModelSignature


class InputTally:
    """Null values per input column, and values outside the training categories per
    categorical column, of the requests one model version answered.

    ``FeatureBuilder`` reports each checked batch's columns here, from the event
    loop or a worker thread; the totals are added under a lock.
    """

    __slots__ = ("_categories", "_lock", "_names", "nulls", "unseen")

    def __init__(self, signature: ModelSignature, known: Mapping[str, Sequence[Any]]) -> None:
        self._names = signature.input_names
        self.nulls = np.zeros(len(self._names), dtype=np.int64)
        self.unseen = np.zeros(len(self._names), dtype=np.int64)
        self._categories = {
            position: frozenset(known[name])
            for position, name in enumerate(self._names)
            if name in known
        }
        self._lock = threading.Lock()

    @property
    def has_categories(self) -> bool:
        return bool(self._categories)

    def observe_columns(self, columns: Sequence[np.ndarray]) -> None:
        """Count one batch given as its input columns, in signature order."""
        nulls = [0] * len(columns)
        unseen: list[tuple[int, int]] = []
        for position, values in enumerate(columns):
            kind = values.dtype.kind
            if kind == "f":
                if math.isnan(np.add.reduce(values)):  # one pass; exact count only then
                    nulls[position] = int(np.count_nonzero(np.isnan(values)))
            elif kind == "O":
                nulls[position] = values.tolist().count(None)
            known = self._categories.get(position)
            if known is not None:
                present = sum(map(known.__contains__, values.tolist()))
                unseen.append((position, len(values) - nulls[position] - present))
        with self._lock:
            self.nulls += nulls
            for position, count in unseen:
                self.unseen[position] += count

    def add_to(self, family: CounterMetricFamily, endpoint: str, model: str, version: str) -> None:
        """Add this version's counts (zeros too, so rates start at once) to ``family``."""
        nulls, unseen = self.nulls.tolist(), self.unseen.tolist()
        for position, name in enumerate(self._names):
            family.add_metric([endpoint, model, version, name, "null"], nulls[position])
        for position in self._categories:
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
