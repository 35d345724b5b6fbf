"""Reading a study back: its trials as the platform shows them, and the best (or the Pareto
front of several objectives)."""

from __future__ import annotations

import optuna

from shipyard.schemas.tuning import TrialInfo
from shipyard.schemas.tuning_spec import Objective

_STATES = {
    optuna.trial.TrialState.COMPLETE: "complete",
    optuna.trial.TrialState.PRUNED: "pruned",
    optuna.trial.TrialState.FAIL: "failed",
    optuna.trial.TrialState.RUNNING: "running",
    optuna.trial.TrialState.WAITING: "waiting",
}


def trial_info(trial: optuna.trial.FrozenTrial) -> TrialInfo:
    attrs = trial.user_attrs
    return TrialInfo(
        number=trial.number,
        state=_STATES.get(trial.state, trial.state.name.lower()),
        params=dict(trial.params),
        values=list(trial.values) if trial.values is not None else None,
        run_id=attrs.get("run_id"),
        reason=attrs.get("reason"),
        intermediate={int(k): float(v) for k, v in trial.intermediate_values.items()},
        has_model=bool(attrs.get("model", False)),
        warm_start_from=attrs.get("warm_start_from"),
    )


def own_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's trials without those copied in from earlier jobs (warm start)."""
    return [t for t in study.get_trials(deepcopy=False) if "warm_start_from" not in t.user_attrs]


def best_trials(study: optuna.Study, objectives: list[Objective]) -> list[optuna.trial.FrozenTrial]:
    """This job's best complete trial, or its Pareto front of several objectives (a spec
    trial stores its model when it beats the best known as it started, so these have one)."""
    done = [t for t in own_trials(study) if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        return []
    if len(objectives) == 1:
        sign = -1.0 if objectives[0].direction == "maximize" else 1.0
        return [min(done, key=lambda t: (sign * float(t.values[0]), t.number))]
    front = [t for t in done if not any(_dominates(o, t, objectives) for o in done)]
    return sorted(front, key=lambda t: t.number)


def _dominates(
    a: optuna.trial.FrozenTrial, b: optuna.trial.FrozenTrial, objectives: list[Objective]
) -> bool:
    better = False
    for i, goal in enumerate(objectives):
        x, y = float(a.values[i]), float(b.values[i])
        if goal.direction == "minimize":
            x, y = -x, -y
        if x < y:
            return False
        better = better or x > y
    return better
