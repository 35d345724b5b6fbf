"""Feature-attribution drift: tree SHAP importances on the baseline against the window's,
compared by ranking as SageMaker Clarify does (NDCG of the current order)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from shipyard.flavors import Predictor
from shipyard.monitoring._baseline import model_input
from shipyard.schemas.monitoring import AttributionDrift

THRESHOLD = 0.1
METHOD = (
    "tree SHAP mean |value| per feature; score 1 - NDCG of the window's feature ranking "
    "against the baseline's attributions (SageMaker Clarify flags NDCG < 0.9)"
)


def refused(reason: str) -> AttributionDrift:
    return AttributionDrift(
        method=METHOD,
        score=None,
        threshold=THRESHOLD,
        drifted=False,
        baseline={},
        current={},
        rows=0,
        refused=reason,
    )


def importances(predictor: Predictor, table: pa.Table) -> dict[str, float]:
    values = predictor.contributions(model_input(predictor, table))  # type: ignore[attr-defined]
    mean = np.abs(np.asarray(values)[:, :, :-1]).mean(axis=(0, 1))
    return dict(zip(predictor.signature.input_names, mean.tolist(), strict=True))


def ndcg(baseline: dict[str, float], current: dict[str, float]) -> float:
    names = list(baseline)
    gains = np.array([baseline[n] for n in names])
    if gains.sum() <= 0:
        return 1.0
    discounts = 1.0 / np.log2(np.arange(2, len(names) + 2))
    ideal = np.sort(gains)[::-1] @ discounts
    ranked = sorted(names, key=lambda n: -current.get(n, 0.0))
    actual = np.array([baseline[n] for n in ranked]) @ discounts
    return float(actual / ideal)


def attribution_drift(
    predictor: Predictor, baseline: pa.Table, window: pa.Table
) -> AttributionDrift:
    if window.num_rows == 0:
        return refused("no captured inputs in this window")
    before = importances(predictor, baseline)
    after = importances(predictor, window)
    score = 1.0 - ndcg(before, after)
    return AttributionDrift(
        method=METHOD,
        score=score,
        threshold=THRESHOLD,
        drifted=score > THRESHOLD,
        baseline=before,
        current=after,
        rows=window.num_rows,
    )
