"""Count, extremes, mean and variance of a column, merged exactly (Chan et al.)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Moments:
    """Count, missing, extremes, mean and sum of squared deviations (``m2``) of some values.

    ``merge`` combines two parts with the parallel form of Welford's update (Chan, Golub and
    LeVeque), so the mean and variance of many merged parts equal the one-pass ones up to
    rounding. ``min``/``max`` hold any ordered values (numbers, dates); lengths are of text.
    """

    count: int = 0
    missing: int = 0
    min: Any = None
    max: Any = None
    mean: float = 0.0
    m2: float = 0.0
    min_length: int | None = None
    max_length: int | None = None

    @classmethod
    def of(cls, values: np.ndarray[Any, np.dtype[np.float64]], missing: int = 0) -> Moments:
        """The moments of float values holding no NaN (extremes left to the caller)."""
        if len(values) == 0:
            return cls(missing=missing)
        with np.errstate(invalid="ignore", over="ignore"):
            mean = float(values.mean())
            m2 = float(np.square(values - mean).sum())
        return cls(count=len(values), missing=missing, mean=mean, m2=m2)

    def merge(self, other: Moments) -> None:
        """Fold ``other``'s values into these."""
        total = self.count + other.count
        if total and other.count:
            with np.errstate(invalid="ignore", over="ignore"):
                delta = other.mean - self.mean
                self.m2 += other.m2 + delta * delta * self.count * other.count / total
                self.mean += delta * other.count / total
        self.count = total
        self.missing += other.missing
        self.min = _pick(min, self.min, other.min)
        self.max = _pick(max, self.max, other.max)
        self.min_length = _pick(min, self.min_length, other.min_length)
        self.max_length = _pick(max, self.max_length, other.max_length)

    def variance(self, ddof: int = 1) -> float | None:
        """The variance, None with at most ``ddof`` values."""
        if self.count <= ddof:
            return None
        return self.m2 / (self.count - ddof)


def _pick(choose: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    return a if b is None else choose(a, b)
