"""What the AutoML job operations return (a job of the one job system, plus its search)."""

from __future__ import annotations

from shipyard.automl._models import Leaderboard
from shipyard.jobs._models import JobInfo


class AutoMLJobInfo(JobInfo):
    """An AutoML job: what it searches, under which budget, and (once done) what it picked."""

    dataset: str
    target: str
    task: str
    metric: str
    budget_seconds: float
    experiment: str
    register_to: str | None
    registered: str | None = None
    winner: str | None = None
    score: float | None = None

    @property
    def resource(self) -> str:
        return f"sy:automl-job/{self.id}"


__all__ = ["AutoMLJobInfo", "Leaderboard"]
