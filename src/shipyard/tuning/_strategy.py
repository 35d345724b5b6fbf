"""Strategies and pruners as Optuna samplers and pruners."""

from __future__ import annotations

from typing import Literal

import optuna

from shipyard.schemas.tuning_spec import TuningSpec, grid_values


def sampler(spec: TuningSpec) -> optuna.samplers.BaseSampler:
    """TPE (constant liar when trials run in parallel, so running trials are not re-proposed),
    random, grid (every point once) or CMA-ES, seeded when the spec gives a seed."""
    seed = spec.seed
    if spec.strategy == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.strategy == "grid":
        space = {name: grid_values(p) for name, p in spec.search_space.items()}
        return optuna.samplers.GridSampler(space, seed=seed)
    if spec.strategy == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=spec.max_parallel > 1)


def pruner(spec: TuningSpec) -> optuna.pruners.BasePruner:
    """Median: Optuna's default of five trials before any is judged and, for a spec's
    boosting rounds, no judgement in a trial's first ten (an early round says little about a
    slow learning rate); own code's steps are its own (epochs, say), judged from the first."""
    if spec.pruner == "median":
        warmup = 0 if "entrypoint" in spec.training else 10
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)
    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()


def directions(spec: TuningSpec) -> list[Literal["minimize", "maximize"]]:
    return [goal.direction for goal in spec.goals]
