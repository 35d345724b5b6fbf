"""Performance estimated without labels from the model's own probabilities, as NannyML's
confidence-based performance estimation (CBPE)."""

from __future__ import annotations

import numpy as np

from shipyard.monitoring._models import EstimatedPerformance

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


def _expected_auc(scores: np.ndarray) -> float | None:
    order = np.argsort(-scores, kind="stable")
    p = scores[order]
    positives, negatives = p.sum(), (1 - p).sum()
    if positives <= 0 or negatives <= 0:
        return None
    tpr = np.concatenate(([0.0], np.cumsum(p) / positives))
    fpr = np.concatenate(([0.0], np.cumsum(1 - p) / negatives))
    return float(np.trapezoid(tpr, fpr))
