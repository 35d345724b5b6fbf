"""The cost-aware search: which family to try next, on how many rows, until the deadline.

As FLAML does: every family starts at its low-cost configuration (the cheapest first),
then its default; after that a family is chosen with probability inverse to its
estimated cost of improvement (ECI: the time it has gone without improving, or the
time it would need at its recent rate of progress to catch up with the leader), and
within a family Optuna's TPE proposes the next configuration. Large tables are
searched on a sample first, which grows (x4) for a family once it stops improving on
it. A trial whose estimated time does not fit before the deadline is not started.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna

from shipyard.automl._candidates import GROWTH, Family
from shipyard.automl._evaluate import Evaluator, TrialResult
from shipyard.automl._scoring import loss

SAMPLE_START_ROWS = 10_000
SAMPLE_GROWTH = 4
STALE_TRIALS = 3
ESTIMATE_MARGIN = 1.5
MAX_SKIPPED = 10
"""Proposals in a row too big for the time left, after which the search stops."""
optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class FamilyState:
    """A family's study and record: its best trial at its current sample, and its clock."""

    family: Family
    study: optuna.Study
    sample: int
    best: TrialResult | None = None
    best_loss: float = math.inf
    first_loss: float = math.inf
    trials: int = 0
    seconds: float = 0.0
    seconds_at_best: float = 0.0
    since_best: int = 0
    last_seconds: float = 0.0
    full_best: TrialResult | None = None
    grow_next: bool = False
    caps: dict[str, int] = field(default_factory=dict)
    seconds_per_unit: float = 0.0
    rate_sample: int = 0

    def eci(self, leader: float, cheapest: float) -> float:
        """Estimated seconds until this family improves on the leader's loss."""
        if self.trials == 0:
            return self.family.cost * max(cheapest, 1e-3)
        if self.trials < len(self.family.starts) + 1:  # its start points first, then one step
            return 2 * self.last_seconds
        stalled = max(self.seconds - self.seconds_at_best, self.last_seconds)
        if self.best_loss <= leader:
            return stalled
        progress = self.first_loss - self.best_loss
        speed = progress / self.seconds_at_best if progress > 0 and self.seconds_at_best else 0.0
        catch_up = (self.best_loss - leader) / speed if speed > 0 else 10 * stalled
        return max(stalled, 2 * catch_up)


@dataclass
class SearchResult:
    """Every trial that finished, each family's state, and when the search stopped."""

    trials: list[TrialResult]
    states: dict[str, FamilyState]
    stopped: str


class Search:
    """Runs trials until ``deadline`` (time.monotonic), leaving ``reserve(best)`` seconds."""

    def __init__(
        self,
        evaluator: Evaluator,
        families: list[Family],
        seed: int,
        on_trial: Callable[[TrialResult, FamilyState], None] | None = None,
    ) -> None:
        self.evaluator, self.on_trial = evaluator, on_trial or (lambda result, state: None)
        self.random = random.Random(seed)
        rows = evaluator.data.rows
        start = rows if rows <= 2 * SAMPLE_START_ROWS else SAMPLE_START_ROWS
        self.states: dict[str, FamilyState] = {}
        for i, family in enumerate(sorted(families, key=lambda f: f.cost)):
            sampler = optuna.samplers.TPESampler(
                seed=seed + i, n_startup_trials=4, multivariate=True
            )
            study = optuna.create_study(direction="minimize", sampler=sampler)
            for params in family.starts:
                study.enqueue_trial(params)
            caps = {
                name: max(GROWTH * int(start.get(name, 4)) for start in family.starts)
                for name in family.grows
            }
            self.states[family.name] = FamilyState(family, study, start, caps=caps)
        self.trials: list[TrialResult] = []
        self.skipped = 0

    def leader(self) -> FamilyState | None:
        tried = [s for s in self.states.values() if s.best is not None]
        return min(tried, key=lambda s: s.best_loss) if tried else None

    def run(self, deadline: float, reserve: Callable[[TrialResult | None], float]) -> SearchResult:
        """Trial after trial until the next one would not fit before the deadline."""
        first_round = [s for s in self.states.values()]
        stopped = "budget"
        while True:
            best = self.best_full()
            left = deadline - reserve(best) - time.monotonic()
            if left <= 0:
                break
            state = self._pick(first_round, left)
            if state is None or self.skipped >= MAX_SKIPPED:
                stopped = "no trial fits in the time left"
                break
            if state in first_round:
                first_round.remove(state)
            self._trial(state, deadline - reserve(best))
        return SearchResult(self.trials, self.states, stopped)

    def best_full(self) -> TrialResult | None:
        """The best trial scored on every row (the one the winner is refitted from)."""
        done = [s.full_best for s in self.states.values() if s.full_best is not None]
        return min(done, key=lambda r: loss(self.evaluator.metric, r.mean)) if done else None

    @staticmethod
    def _sample_of_rate(state: FamilyState) -> int:
        return state.rate_sample or state.sample

    def _estimate(self, state: FamilyState) -> float:
        if state.trials == 0:
            seen = [s.last_seconds for s in self.states.values() if s.trials]
            return state.family.cost * (min(seen) if seen else 0.0)
        scale = SAMPLE_GROWTH if state.grow_next else 1.0
        return state.last_seconds * scale

    def _pick(self, first_round: list[FamilyState], left: float) -> FamilyState | None:
        fits = [s for s in self.states.values() if self._estimate(s) < left]
        if not fits:
            return None
        untried = [s for s in first_round if s in fits]
        if untried:
            return untried[0]
        leader = self.leader()
        best = leader.best_loss if leader is not None else math.inf
        cheapest = (
            min(s.last_seconds for s in fits if s.trials) if any(s.trials for s in fits) else 0
        )
        weights = [1.0 / max(s.eci(best, cheapest), 1e-4) for s in fits]
        return self.random.choices(fits, weights=weights)[0]

    def _trial(self, state: FamilyState, deadline: float) -> None:
        rows = self.evaluator.data.rows
        if state.grow_next and state.best is not None:
            state.sample = min(rows, state.sample * SAMPLE_GROWTH)
            state.best_loss, state.since_best, state.grow_next = math.inf, 0, False
            params, trial = dict(state.best.params), None
        else:
            trial = state.study.ask()
            params = state.family.space(trial, state.caps)
        expected = (
            state.seconds_per_unit
            * cost_units(params)
            * state.sample
            / max(self._sample_of_rate(state), 1)
        )
        if state.seconds_per_unit and time.monotonic() + expected > deadline:
            if trial is not None:  # too big for the time left: not run, and not counted
                state.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            self.skipped += 1
            return
        self.skipped = 0
        started = time.monotonic()
        try:
            result = self.evaluator.evaluate(state.family, params, state.sample, deadline)
        except Exception:  # a configuration the estimator refuses is a failed trial
            result = None
        spent = time.monotonic() - started
        rate = spent / cost_units(params)
        state.seconds_per_unit = (
            rate if state.rate_sample != state.sample else max(rate, state.seconds_per_unit * 0.8)
        )
        state.rate_sample = state.sample
        state.trials += 1
        state.seconds += spent
        state.last_seconds = spent
        if result is None or not np.all(np.isfinite(result.fold_scores)):
            if trial is not None:
                state.study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        value = loss(self.evaluator.metric, result.mean)
        if trial is not None:
            state.study.tell(trial, value)
        result.number = len(self.trials)
        self.trials.append(result)
        if value < state.best_loss:
            if state.first_loss == math.inf:
                state.first_loss = value
            state.best, state.best_loss, state.since_best = result, value, 0
            state.seconds_at_best = state.seconds
            for name in state.family.grows:
                grown = GROWTH * int(result.params.get(name, 4))
                state.caps[name] = max(state.caps.get(name, 0), grown)
        else:
            state.since_best += 1
        if result.sample >= rows and (
            state.full_best is None or value < loss(self.evaluator.metric, state.full_best.mean)
        ):
            state.full_best = result
        if state.sample < rows and state.since_best >= STALE_TRIALS:
            state.grow_next = True
        self.on_trial(result, state)


def cost_units(params: dict[str, Any]) -> float:
    """A configuration's relative cost: trees times the square root of their leaves (a
    margin over the logarithm that histogram boosting would cost in theory)."""
    trees = float(params.get("n_estimators", 1))
    leaves = params.get("num_leaves") or params.get("max_leaves") or params.get("max_leaf_nodes")
    return trees * (math.sqrt(float(leaves)) if leaves else 1.0)
