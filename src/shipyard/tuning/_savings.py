"""How much compute pruning saved: an estimate from the trials that did run to the end.

For each pruned trial, the rounds it did not run (the mean rounds of the complete trials,
less the last round it reported) times the mean seconds per round of the complete trials.
Rounds are the steps trials report their objective at; seconds are trial wall time, one
CPU per trial (as trials are scheduled), so CPU seconds are taken equal to them.
"""

from __future__ import annotations

import optuna

from shipyard.schemas.tuning import PruningSavings


def _rounds(trial: optuna.trial.FrozenTrial) -> int:
    return max(trial.intermediate_values, default=0)


def _seconds(trial: optuna.trial.FrozenTrial) -> float | None:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return None
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def pruning_savings(
    trials: list[optuna.trial.FrozenTrial], price_cpu_hour: float, currency: str
) -> PruningSavings:
    """The estimate over ``trials`` (this job's own); zero when nothing was pruned or no
    complete trial says how long a round takes."""
    complete = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE and _rounds(t) > 0 and _seconds(t)
    ]
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    rounds_saved = 0.0
    seconds_per_round = 0.0
    if complete and pruned:
        full_rounds = sum(_rounds(t) for t in complete) / len(complete)
        seconds_per_round = sum((_seconds(t) or 0.0) / _rounds(t) for t in complete) / len(complete)
        rounds_saved = sum(max(full_rounds - _rounds(t), 0.0) for t in pruned)
    seconds = rounds_saved * seconds_per_round
    ran = sum(_seconds(t) or 0.0 for t in trials)
    return PruningSavings(
        pruned_trials=len(pruned),
        rounds_saved=round(rounds_saved, 1),
        seconds_per_round=seconds_per_round,
        cpu_seconds_saved=round(seconds, 3),
        share_saved=seconds / (seconds + ran) if seconds + ran > 0 else 0.0,
        cost_saved=seconds / 3600 * price_cpu_hour,
        currency=currency,
    )
