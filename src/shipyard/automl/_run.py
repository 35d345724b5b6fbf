"""One AutoML search end to end, outside any job: prepare, search, pick, refit, rank.

The job worker (``jobs/_automl_worker.py``) and the benchmark call ``run_search``; it
returns the fitted winner (a single model, or a soft-voting composite of scikit-learn
members) with the leaderboard that explains it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.ensemble import VotingClassifier, VotingRegressor

from shipyard.automl._candidates import Family, families
from shipyard.automl._data import SearchData, prepare
from shipyard.automl._ensemble import Selection, select
from shipyard.automl._evaluate import (
    Evaluator,
    TrialResult,
    build_model,
    fit_model,
    use_holdout,
)
from shipyard.automl._scoring import LOWER_IS_BETTER, default_metric, loss, score
from shipyard.automl._search import FamilyState, Search, SearchResult
from shipyard.errors import JobFailed
from shipyard.flavors import Task
from shipyard.schemas.automl import Leaderboard, LeaderboardEntry

REFIT_MARGIN = 1.5
"""Refitting on every row is reserved this many times its estimated time."""
ALL_ROWS_SCALE = 1.25
"""All rows over one split's training rows (5 folds: 1.25; a 10% holdout: 1.11)."""


@dataclass
class Outcome:
    """The fitted winner, its data and leaderboard, and the trials behind them."""

    model: Any
    data: SearchData
    leaderboard: Leaderboard
    trials: list[TrialResult]
    fit_seconds: float


def refit_seconds(trial: TrialResult | None) -> float:
    """How long refitting a trial's configuration on every row, then storing and checking
    the model, should take: a fit on one split's training rows, scaled to all rows."""
    if trial is None:
        return 0.0
    per_fit = trial.fit_seconds / max(len(trial.fold_scores), 1)
    return REFIT_MARGIN * per_fit * ALL_ROWS_SCALE + trial.store_seconds


def run_search(
    table: pa.Table,
    target: str,
    task: Task,
    *,
    metric: str | None,
    deadline: float,
    tail_seconds: float,
    budget_seconds: float | None = None,
    folds: int = 5,
    seed: int = 0,
    n_jobs: int = 1,
    ensemble: bool = True,
    on_trial: Callable[[TrialResult, FamilyState], None] | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Outcome:
    """Search until ``deadline`` (``time.monotonic``) less the refit and ``tail_seconds``."""
    data = prepare(table, target, task)
    classes = 0 if data.classes is None else len(data.classes)
    metric = metric or default_metric(task, classes)
    chosen = families(task, data.rows)
    say(
        f"{data.rows} rows x {len(data.signature.inputs)} features, {task}, metric {metric}; "
        f"families: {', '.join(f.name for f in chosen)}"
    )
    budget = budget_seconds if budget_seconds is not None else deadline - time.monotonic()
    holdout = use_holdout(data.rows, len(data.signature.inputs), budget)
    evaluator = Evaluator(data, metric, folds, seed, n_jobs, holdout)
    say("evaluation: " + ("one 10% holdout split" if holdout else f"{folds}-fold cross-validation"))
    search = Search(evaluator, chosen, seed, on_trial)
    started = time.monotonic()
    result = search.run(deadline - tail_seconds, refit_seconds)
    searched = time.monotonic() - started
    best = search.best_full() or _best_any(result, metric)
    if best is None:
        raise JobFailed("the budget ended before any candidate was evaluated; give more time")
    say(f"search: {len(result.trials)} trials in {searched:.1f} s ({result.stopped})")
    by_name = {f.name: f for f in chosen}
    splits = evaluator.splits(data.rows)
    selection = (
        _ensemble(result, best, by_name, data, metric, splits, deadline - tail_seconds)
        if ensemble
        else None
    )
    fit_started = time.perf_counter()
    if selection is not None:
        model = _composite(selection, by_name, data, n_jobs)
        fit_model(model, None, data, np.arange(data.rows))
        say(
            f"ensemble of {len(selection.members)} members, "
            f"out-of-fold {metric}={selection.score:.5g}"
        )
    else:
        family = by_name[best.family]
        model = build_model(family, data, best.params, n_jobs)
        fit_model(model, family, data, np.arange(data.rows))
    fitted = time.perf_counter() - fit_started
    say(f"refitted {board_name(selection, best)} on all {data.rows} rows in {fitted:.2f} s")
    board = _leaderboard(result, best, selection, by_name, data, metric, searched, deadline)
    if selection is not None:
        entry = _ensemble_entry(selection, data, metric, splits)
        board.entries = _ranked([*board.entries, entry], metric)
        board.winner = entry.family
    return Outcome(model, data, board, result.trials, fitted)


def board_name(selection: Selection | None, best: TrialResult) -> str:
    return "the ensemble" if selection is not None else best.family


def _best_any(result: SearchResult, metric: str) -> TrialResult | None:
    return min(result.trials, key=lambda t: loss(metric, t.mean)) if result.trials else None


def _ensemble(
    result: SearchResult,
    best: TrialResult,
    by_name: dict[str, Family],
    data: SearchData,
    metric: str,
    splits: list[tuple[np.ndarray, np.ndarray]],
    deadline: float,
) -> Selection | None:
    """The ensemble when its mean fold score beats the best single model's and its refit
    fits in the time left."""
    if best.oof is None:
        return None
    native = {name for name, f in by_name.items() if f.native}
    selection = select(result.trials, native, metric, data.y, data.classes)
    if selection is None:
        return None
    mean = float(np.mean(fold_scores(selection, data, metric, splits)))
    if loss(metric, mean) >= loss(metric, best.mean):
        return None
    needed = sum(refit_seconds(t) for t, _ in selection.members)
    return selection if time.monotonic() + needed < deadline else None


def blend(selection: Selection) -> np.ndarray:
    """The members' out-of-fold outputs averaged with their weights."""
    total = np.zeros_like(selection.members[0][0].oof, dtype=np.float64)
    for trial, count in selection.members:
        assert trial.oof is not None
        total += trial.oof * count
    return total / sum(count for _, count in selection.members)


def fold_scores(
    selection: Selection, data: SearchData, metric: str, splits: list[tuple[np.ndarray, np.ndarray]]
) -> list[float]:
    """The ensemble's score on each fold's held-out rows, from its members' out-of-fold outputs."""
    mixed = blend(selection)
    return [score(metric, data.y[test], mixed[test], data.classes) for _, test in splits]


def _composite(
    selection: Selection, by_name: dict[str, Family], data: SearchData, n_jobs: int
) -> Any:
    members = [
        (
            f"{trial.family}_{trial.number}",
            build_model(by_name[trial.family], data, trial.params, n_jobs),
        )
        for trial, _ in selection.members
    ]
    weights = [count for _, count in selection.members]
    if data.classes is not None:
        return VotingClassifier(members, voting="soft", weights=weights)
    return VotingRegressor(members, weights=weights)


def _leaderboard(
    result: SearchResult,
    best: TrialResult,
    selection: Selection | None,
    by_name: dict[str, Family],
    data: SearchData,
    metric: str,
    searched: float,
    deadline: float,
) -> Leaderboard:
    entries: list[LeaderboardEntry] = []
    for name, state in result.states.items():
        trial = state.full_best or state.best
        if trial is None:
            continue
        folds = max(len(trial.fold_scores), 1)
        entries.append(
            LeaderboardEntry(
                rank=0,
                family=name,
                estimator=by_name[name].estimators[data.task],
                score=trial.mean,
                score_std=trial.std,
                fold_scores=trial.fold_scores,
                fit_seconds=round(trial.fit_seconds / folds, 4),
                predict_us_per_row=round(trial.predict_seconds_per_row * 1e6, 3),
                model_bytes=trial.size_bytes,
                trials=state.trials,
                rows=trial.sample,
                params=trial.params,
                winner=selection is None and trial is best,
            )
        )
    entries = _ranked(entries, metric)
    winner = next((e.family for e in entries if e.winner), best.family)
    return Leaderboard(
        metric=metric,
        task=data.task,
        higher_is_better=metric not in LOWER_IS_BETTER,
        entries=entries,
        winner=winner,
        trials=len(result.trials),
        budget_seconds=0.0,
        search_seconds=round(searched, 3),
        stopped=result.stopped,
    )


def _ranked(entries: list[LeaderboardEntry], metric: str) -> list[LeaderboardEntry]:
    entries.sort(key=lambda e: loss(metric, e.score))
    for rank, entry in enumerate(entries, 1):
        entry.rank = rank
    return entries


def _ensemble_entry(
    selection: Selection, data: SearchData, metric: str, splits: list[tuple[np.ndarray, np.ndarray]]
) -> LeaderboardEntry:
    members = selection.members
    scores = fold_scores(selection, data, metric, splits)
    kind = "Classifier" if data.classes is not None else "Regressor"
    return LeaderboardEntry(
        rank=0,
        family="ensemble",
        estimator=f"sklearn.ensemble.Voting{kind}",
        score=float(np.mean(scores)),
        score_std=float(np.std(scores)),
        fold_scores=scores,
        fit_seconds=round(sum(t.fit_seconds / max(len(t.fold_scores), 1) for t, _ in members), 4),
        predict_us_per_row=round(sum(t.predict_seconds_per_row for t, _ in members) * 1e6, 3),
        model_bytes=None,
        trials=0,
        rows=data.rows,
        params={"weights": {f"{t.family}_{t.number}": n for t, n in members}},
        winner=True,
        members=[f"{t.family}_{t.number}" for t, _ in members],
    )
