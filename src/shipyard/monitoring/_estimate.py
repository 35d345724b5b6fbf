"""Performance estimated without labels from the model's own probabilities, as NannyML's
confidence-based performance estimation (CBPE)."""

from __future__ import annotations

import numpy as np

from shipyard.schemas.monitoring import EstimatedPerformance

ASSUMPTIONS = [
    "the predicted probabilities are calibrated on the monitored traffic (a predicted 0.8 "
    "is right 80% of the time); they are taken as the model gives them",
    "only the inputs shifted (covariate shift): the relation between inputs and label "
    "P(y|x) is the one the model learned; under concept drift the estimate is wrong",
    "the predicted class is the most probable one",
]
METHOD = "CBPE (confidence-based performance estimation, NannyML)"


def refused(reason: str) -> EstimatedPerformance:
    return EstimatedPerformance(
        method=METHOD, metrics={}, rows=0, assumptions=ASSUMPTIONS, refused=reason
    )


def estimate(probabilities: np.ndarray) -> EstimatedPerformance:
    """Expected accuracy (mean top probability) and expected ROC AUC (one-vs-rest, macro):
    the expected true and false positives at each threshold are sums of probabilities."""
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        return refused("no rows with class probabilities in this window")
    metrics = {"accuracy": float(np.mean(probabilities.max(axis=1)))}
    classes = probabilities.shape[1]
    aucs = [_expected_auc(probabilities[:, k]) for k in ([1] if classes == 2 else range(classes))]
    known = [a for a in aucs if a is not None]
    if known:
        metrics["roc_auc"] = float(np.mean(known))
    return EstimatedPerformance(
        method=METHOD, metrics=metrics, rows=int(probabilities.shape[0]), assumptions=ASSUMPTIONS
    )


AUC_BINS = 100_000
"""Scores are grouped on this many equal bins of [0, 1], so the AUC takes linear time;
within a bin the expected rates grow linearly (an error below 1e-5)."""


def _expected_auc(scores: np.ndarray) -> float | None:
    slots = np.minimum((np.clip(scores, 0.0, 1.0) * AUC_BINS).astype(np.int64), AUC_BINS - 1)
    positives = np.bincount(slots, weights=scores, minlength=AUC_BINS)[::-1]
    negatives = np.bincount(slots, weights=1.0 - scores, minlength=AUC_BINS)[::-1]
    total_p, total_n = positives.sum(), negatives.sum()
    if total_p <= 0 or total_n <= 0:
        return None
    tpr = np.concatenate(([0.0], np.cumsum(positives) / total_p))
    fpr = np.concatenate(([0.0], np.cumsum(negatives) / total_n))
    return float(np.trapezoid(tpr, fpr))
