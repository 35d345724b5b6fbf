"""The bench's executor tasks: a small training fit, and a task that does nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

_DATA = load_breast_cancer()


def fit(payload: dict[str, Any]) -> dict[str, Any]:
    """Five-fold accuracy of a logistic regression with ``C`` on the breast cancer data."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=payload["C"], max_iter=500))
    scores = cross_val_score(model, _DATA.data, _DATA.target, cv=5, n_jobs=1)
    return {"accuracy": float(np.mean(scores))}


def nothing(payload: dict[str, Any]) -> dict[str, Any]:
    return {}
