"""Metrics as functions of row weights, so one code path gives the point estimate (every
weight 1) and a whole block of bootstrap resamples (Poisson(1) weights) at once.

Rows are sorted and grouped once; each resample is then a few weighted sums, group sums
(``np.add.reduceat``) and cumulative sums over the same order, with no per-resample sort.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

Weights = np.ndarray  # (resamples, rows)
Metrics = dict[str, np.ndarray]  # name -> (resamples,)
_EPS = float(np.finfo(np.float64).eps)


class _Groups:
    """Rows grouped by an integer key in [0, size): weighted sums per group.

    Rows already in key order are summed in place, without gathering them first.
    """

    def __init__(self, keys: np.ndarray, size: int) -> None:
        in_order = bool(np.all(keys[1:] >= keys[:-1]))
        self.order: np.ndarray | None = None if in_order else np.argsort(keys, kind="stable")
        ordered = keys if self.order is None else keys[self.order]
        boundary = np.r_[True, ordered[1:] != ordered[:-1]] if len(keys) else np.zeros(0, bool)
        self.starts: np.ndarray = np.flatnonzero(boundary)
        self.present: np.ndarray = ordered[self.starts]
        self.size = size

    def sums(self, w: Weights) -> np.ndarray:
        out = np.zeros((w.shape[0], self.size))
        if len(self.present):
            rows = w if self.order is None else w[:, self.order]
            out[:, self.present] = np.add.reduceat(rows, self.starts, axis=1)
        return out


def _indicator(keys: np.ndarray, size: int) -> sparse.csr_matrix:
    """A rows x size matrix with a 1 at each row's key: ``w @ it`` sums weights per key."""
    rows = len(keys)
    return sparse.csr_matrix((np.ones(rows), (np.arange(rows), keys)), shape=(rows, size))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den``, 0 where ``den`` is 0 (scikit-learn's zero_division default)."""
    safe = np.where(den == 0, 1.0, den)
    return np.where(den == 0, 0.0, num / safe)


class _RankedScores:
    """One binary problem (is class c?) ranked by its score, ties grouped."""

    def __init__(self, positive: np.ndarray, score: np.ndarray) -> None:
        _, inverse = np.unique(score, return_inverse=True)
        self.groups = _Groups(inverse.ravel(), int(inverse.max()) + 1 if len(score) else 0)
        self.positive = positive.astype(np.float64)

    def split(self, w: Weights) -> tuple[np.ndarray, np.ndarray]:
        """Weighted positives and negatives per score group, lowest score first."""
        pos = self.groups.sums(w * self.positive)
        return pos, self.groups.sums(w) - pos

    @staticmethod
    def auc(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """ROC AUC: the chance a positive outscores a negative, ties counted half."""
        below = np.cumsum(neg, axis=1) - neg
        num = (pos * (below + 0.5 * neg)).sum(axis=1)
        return _ratio(num, pos.sum(axis=1) * neg.sum(axis=1))

    @staticmethod
    def average_precision(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """Precision at each threshold weighted by the recall it adds (scikit-learn's AP)."""
        tp = np.cumsum(pos[:, ::-1], axis=1)[:, ::-1]
        fp = np.cumsum(neg[:, ::-1], axis=1)[:, ::-1]
        precision = _ratio(tp, tp + fp)
        return _ratio((pos * precision).sum(axis=1), pos.sum(axis=1))


@dataclass(frozen=True)
class ClassificationScores:
    """Encoded labels (class indices), predicted indices and class probabilities."""

    y_true: np.ndarray
    y_pred: np.ndarray
    probabilities: np.ndarray | None
    n_classes: int

    def in_score_order(self) -> ClassificationScores:
        """The rows of a binary problem sorted by score, so its group sums need no gather.

        Bootstrap weights are independent per row, so reordering rows changes nothing but
        the speed (3x on a million rows).
        """
        if self.probabilities is None or self.n_classes != 2:
            return self
        order = np.argsort(self.probabilities[:, 1], kind="stable")
        return ClassificationScores(
            self.y_true[order], self.y_pred[order], self.probabilities[order], self.n_classes
        )

    def metric_fn(self) -> Callable[[Weights], Metrics]:
        """Every metric for a block of row weights, one row of weights per resample."""
        k = self.n_classes
        y_true, y_pred, probs = self.y_true, self.y_pred, self.probabilities
        cells = _indicator(y_true * k + y_pred, k * k)
        labels = np.union1d(y_true, y_pred)
        ranked: list[_RankedScores] = []
        p_true: np.ndarray | None = None
        if probs is not None:
            columns = [1] if k == 2 else range(k)
            ranked = [_RankedScores(y_true == c, probs[:, c]) for c in columns]
            picked = probs[np.arange(len(y_true)), y_true]
            p_true = -np.log(np.clip(picked, _EPS, 1 - _EPS))

        def compute(w: Weights) -> Metrics:
            confusion = np.asarray(w @ cells).reshape(-1, k, k)
            total = confusion.sum(axis=(1, 2))
            hits = np.diagonal(confusion, axis1=1, axis2=2)
            predicted, actual = confusion.sum(axis=1), confusion.sum(axis=2)
            if k == 2:
                precision = _ratio(hits[:, 1], predicted[:, 1])
                recall = _ratio(hits[:, 1], actual[:, 1])
                f1 = _ratio(2 * hits[:, 1], predicted[:, 1] + actual[:, 1])
            else:
                precision = _ratio(hits, predicted)[:, labels].mean(axis=1)
                recall = _ratio(hits, actual)[:, labels].mean(axis=1)
                f1 = _ratio(2 * hits, predicted + actual)[:, labels].mean(axis=1)
            out: Metrics = {
                "accuracy": _ratio(hits.sum(axis=1), total),
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
            if ranked and p_true is not None:
                splits = [r.split(w) for r in ranked]
                out["auc"] = np.mean([_RankedScores.auc(*s) for s in splits], axis=0)
                out["average_precision"] = np.mean(
                    [_RankedScores.average_precision(*s) for s in splits], axis=0
                )
                out["log_loss"] = _ratio(w @ p_true, total)
            return out

        return compute


@dataclass(frozen=True)
class RegressionScores:
    y_true: np.ndarray
    y_pred: np.ndarray

    def metric_fn(self) -> Callable[[Weights], Metrics]:
        error = self.y_pred - self.y_true
        centred = self.y_true - self.y_true.mean() if len(self.y_true) else self.y_true
        relative = np.abs(error) / np.maximum(np.abs(self.y_true), _EPS)

        def compute(w: Weights) -> Metrics:
            total = w.sum(axis=1)
            mse = _ratio(w @ (error**2), total)
            mean = _ratio(w @ centred, total)
            spread = w @ (centred**2) - total * mean**2
            residual = w @ (error**2)
            r2 = np.where(spread > 0, 1 - _ratio(residual, spread), np.nan)
            return {
                "rmse": np.sqrt(mse),
                "mse": mse,
                "mae": _ratio(w @ np.abs(error), total),
                "r2": r2,
                "max_error": np.where(w > 0, np.abs(error), 0.0).max(axis=1, initial=0.0),
                "mape": _ratio(w @ relative, total),
            }

        return compute


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float


def bootstrap(
    compute: Callable[[Weights], Metrics],
    rows: int,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    max_cells: int = 2_000_000,
) -> dict[str, Estimate]:
    """Point estimates with percentile intervals over ``resamples`` Poisson(1) bootstraps,
    drawn in blocks of at most ``max_cells`` weights (memory stays bounded for any size)."""
    point = {name: float(v[0]) for name, v in compute(np.ones((1, rows))).items()}
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, max_cells // max(rows, 1)))
    draws: dict[str, list[np.ndarray]] = {name: [] for name in point}
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        weights = rng.poisson(1.0, size=(size, rows)).astype(np.float64)
        for name, values in compute(weights).items():
            draws[name].append(values)
        done += size
    tail = (1 - confidence) / 2 * 100
    estimates = {}
    for name, value in point.items():
        values = np.concatenate(draws[name]) if draws[name] else np.array([value])
        finite = values[np.isfinite(values)]
        low, high = np.percentile(finite, [tail, 100 - tail]) if len(finite) else (value, value)
        estimates[name] = Estimate(value, float(low), float(high))
    return estimates
