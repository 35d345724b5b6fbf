"""What the tuning API returns about trials (no Optuna import: the job system loads this)."""

from __future__ import annotations

from typing import Any

from shipyard.schemas._base import WireModel
from shipyard.schemas.tuning_spec import Objective


class TrialInfo(WireModel):
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
    usage: dict[str, float] = {}
    """What the trial used: ``wall_seconds``, ``cpu_seconds`` (every thread of the process
    it ran in) and ``peak_mib`` (that process's peak resident memory during the trial)."""


class PruningSavings(WireModel):
    """What pruning saved, estimated: the rounds pruned trials did not run, at the complete
    trials' mean seconds per round (one CPU per trial), and that priced per CPU-hour."""

    pruned_trials: int
    rounds_saved: float
    seconds_per_round: float
    cpu_seconds_saved: float
    share_saved: float
    """Of the compute the trials would have used without pruning."""
    cost_saved: float
    currency: str

    def sentence(self) -> str:
        """One sentence on what pruning saved."""
        if not self.pruned_trials:
            return "Pruning saved nothing: no trial was pruned."
        return (
            f"Pruning stopped {self.pruned_trials} trial(s) early, saving an estimated "
            f"{self.rounds_saved:g} rounds, {self.cpu_seconds_saved:.1f} CPU seconds "
            f"({self.share_saved:.0%} of the compute), {self.cost_saved:.6f} {self.currency} "
            f"(at {self.seconds_per_round:.3g} s per round of the complete trials)."
        )


class TuningBest(WireModel):
    """The best trial (one objective) or the Pareto front (several), best first; and what
    pruning saved."""

    objectives: list[Objective]
    trials: list[TrialInfo]
    pruning: PruningSavings | None = None
