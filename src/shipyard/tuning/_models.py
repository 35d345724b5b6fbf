"""What the tuning API returns about trials (no Optuna import: the job system loads this)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shipyard.tuning._spec import Objective


class TrialInfo(BaseModel):
    """One trial: its parameters, its objective values, its run, why it stopped early."""

    number: int
    state: str
    params: dict[str, Any]
    values: list[float] | None
    run_id: str | None
    reason: str | None
    intermediate: dict[int, float]
    has_model: bool
    warm_start_from: str | None


class TuningBest(BaseModel):
    """The best trial (one objective) or the Pareto front (several), best first."""

    objectives: list[Objective]
    trials: list[TrialInfo]
