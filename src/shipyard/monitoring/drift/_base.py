"""A drift statistic between a baseline histogram and a current one on the same bins.

Each method takes count vectors (``reference``, ``current``) and, for numeric columns, the
bin edges and the baseline's standard deviation; it says its threshold and the rule it
applies, so a result states what it rests on. Methods are chosen by column type and the
baseline's size as Evidently chooses by default (``choose``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

Counts = NDArray[np.int64]
SMALL_SAMPLE = 1000
"""Baselines of at most this many rows get a test (p-value), larger ones a distance."""


@dataclass(frozen=True)
class Histogram:
    """Counts on shared bins; ``edges`` (numeric only) bound bins (-inf, e0], ..., (e_n, inf)."""

    counts: Counts
    edges: NDArray[np.float64] | None = None
    scale: float = 1.0
    """The baseline's standard deviation (numeric), to normalize distances."""


@dataclass(frozen=True)
class Score:
    value: float
    drifted: bool


class DriftMethod(Protocol):
    """One statistic with its threshold: ``score`` says the value and whether it drifted."""

    name: str
    threshold: float
    rule: str

    def score(self, reference: Histogram, current: Histogram) -> Score: ...
