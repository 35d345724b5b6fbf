"""Greedy ensemble selection (Caruana et al., 2004) over out-of-fold outputs.

Members are added one at a time, with replacement, each time the one that most improves
the ensemble's out-of-fold score; their counts become the weights of a soft-voting
composite. Only scikit-learn members take part: the composite is stored with skops,
whose trusted types cover scikit-learn but not LightGBM's or XGBoost's native boosters
(those are stored, and audited, in their own formats).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from shipyard.automl._evaluate import TrialResult
from shipyard.automl._scoring import loss, score

MAX_CANDIDATES = 8
ROUNDS = 20


@dataclass(frozen=True)
class Selection:
    """Chosen members (trial and weight) and the ensemble's out-of-fold score."""

    members: list[tuple[TrialResult, int]]
    score: float


def select(
    trials: list[TrialResult],
    native: set[str],
    metric: str,
    y: np.ndarray,
    classes: np.ndarray | None,
) -> Selection | None:
    """The ensemble of the best scikit-learn trials, or None when fewer than two help."""
    pool = [t for t in trials if t.oof is not None and t.family not in native]
    pool.sort(key=lambda t: loss(metric, t.mean))
    candidates: list[TrialResult] = []
    per_family: Counter[str] = Counter()
    for trial in pool:
        if per_family[trial.family] < 3:
            candidates.append(trial)
            per_family[trial.family] += 1
        if len(candidates) == MAX_CANDIDATES:
            break
    if len(candidates) < 2:
        return None
    counts: Counter[int] = Counter()
    total: np.ndarray | None = None
    best_loss, best_counts = np.inf, Counter[int]()
    for size in range(1, ROUNDS + 1):
        step = []
        for trial in candidates:
            assert trial.oof is not None
            mixed = trial.oof if total is None else (total + trial.oof)
            step.append(loss(metric, score(metric, y, mixed / size, classes)))
        pick = int(np.nanargmin(step))
        counts[pick] += 1
        picked = candidates[pick].oof
        assert picked is not None
        total = picked.copy() if total is None else total + picked
        if step[pick] < best_loss:
            best_loss, best_counts = step[pick], counts.copy()
    if len(best_counts) < 2:
        return None
    members = [(candidates[i], n) for i, n in sorted(best_counts.items())]
    return Selection(members, loss(metric, best_loss))  # loss() is its own inverse
