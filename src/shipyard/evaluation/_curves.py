"""ROC and precision-recall curves of one-vs-rest problems, thinned for drawing."""

from __future__ import annotations

import numpy as np

MAX_POINTS = 400


def _counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at each distinct threshold, highest score first."""
    order = np.argsort(-score, kind="stable")
    ranked, hits = score[order], positive[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1] if len(ranked) else []
    tp = np.cumsum(hits)[last]
    fp = (np.asarray(last) + 1) - tp
    return tp, fp


def _thin(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    size = len(arrays[0])
    if size <= MAX_POINTS:
        return arrays
    keep = np.unique(np.linspace(0, size - 1, MAX_POINTS).round().astype(np.int64))
    return tuple(a[keep] for a in arrays)


def roc_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) from (0, 0) to (1, 1)."""
    tp, fp = _counts(positive, score)
    tpr = np.r_[0.0, tp / max(tp[-1] if len(tp) else 0, 1)]
    fpr = np.r_[0.0, fp / max(fp[-1] if len(fp) else 0, 1)]
    fpr, tpr = _thin(fpr, tpr)
    return fpr, tpr


def pr_curve(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision), starting at recall 0 with precision 1."""
    tp, fp = _counts(positive, score)
    recall = np.r_[0.0, tp / max(tp[-1] if len(tp) else 0, 1)]
    precision = np.r_[1.0, tp / np.maximum(tp + fp, 1)]
    recall, precision = _thin(recall, precision)
    return recall, precision


def one_vs_rest(
    y_true: np.ndarray, probabilities: np.ndarray, classes: list[str]
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(label, positive mask, score) per curve: the positive class of a binary model, each
    class of a multiclass one (up to 8), else the micro average of all."""
    k = probabilities.shape[1]
    if k == 2:
        return [(f"class {classes[1]}", y_true == 1, probabilities[:, 1])]
    if k <= 8:
        return [(f"class {classes[c]}", y_true == c, probabilities[:, c]) for c in range(k)]
    onehot = np.zeros_like(probabilities, dtype=bool)
    onehot[np.arange(len(y_true)), y_true] = True
    return [("micro average", onehot.ravel(), probabilities.ravel())]
