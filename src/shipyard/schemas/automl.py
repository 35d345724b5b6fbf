"""What AutoML reports: the leaderboard that explains its pick."""

from __future__ import annotations

from typing import Any

from shipyard.schemas._base import WireModel


class LeaderboardEntry(WireModel):
    """A family's best configuration (or the ensemble): its cross-validated score with the
    spread across folds, and what it costs to fit, to predict with and to store."""

    rank: int
    family: str
    estimator: str
    score: float
    score_std: float
    fold_scores: list[float]
    fit_seconds: float
    predict_us_per_row: float
    model_bytes: int | None
    trials: int
    rows: int
    params: dict[str, Any]
    winner: bool = False
    members: list[str] = []


class Leaderboard(WireModel):
    """Every family's best, ranked by the metric, and how the search went."""

    metric: str
    task: str
    higher_is_better: bool
    entries: list[LeaderboardEntry]
    winner: str
    trials: int
    budget_seconds: float
    search_seconds: float
    stopped: str
    registered: str | None = None
