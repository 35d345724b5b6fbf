"""The search space as Optuna sees it: define-by-run suggestions in declared order, so a
conditional parameter is asked only while its condition holds (and recorded only then)."""

from __future__ import annotations

from typing import Any

import optuna

from shipyard.schemas.tuning_spec import Parameter, TuningSpec


def holds(p: Parameter, chosen: dict[str, Any]) -> bool:
    """Whether ``p``'s condition holds for the values chosen so far (always, without one)."""
    if not p.when:
        return True
    return all(name in chosen and chosen[name] in p.condition_values(name) for name in p.when)


def distribution(p: Parameter) -> optuna.distributions.BaseDistribution:
    if p.type == "categorical":
        return optuna.distributions.CategoricalDistribution(list(p.choices or []))
    if p.type == "int":
        step = int(p.step or 1)
        return optuna.distributions.IntDistribution(
            int(p.low or 0), int(p.high or 0), log=p.log, step=step
        )
    return optuna.distributions.FloatDistribution(
        float(p.low or 0), float(p.high or 0), log=p.log, step=p.step
    )


def suggest(trial: optuna.Trial, spec: TuningSpec) -> dict[str, Any]:
    """Ask the trial for every parameter whose condition holds, in declared order."""
    chosen: dict[str, Any] = {}
    for name, p in spec.search_space.items():
        if holds(p, chosen):
            chosen[name] = trial._suggest(name, distribution(p))
    return chosen


def fits(params: dict[str, Any], spec: TuningSpec) -> bool:
    """Whether earlier trial params lie in this space (for warm starts)."""
    for name, value in params.items():
        p = spec.search_space.get(name)
        if p is None or not distribution(p)._contains(distribution(p).to_internal_repr(value)):
            return False
    return True
