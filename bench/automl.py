"""AutoML vs FLAML at equal wall budget on the same CPU, on scikit-learn's bundled data.

Both sides get the same training rows and are scored on the same held-out rows (a
seeded 25% split), with the same metric (FLAML's ``auto``: ROC AUC for two classes, log
loss for more, R² for regression) and one thread each. The sides alternate which runs
first, round by round. Shipyard runs its search in-process (``run_search``, as the job
worker does, without the job's process start and registration). Prints each run's
held-out score and wall time, then per dataset the median score difference and the
median ratio of wall time to budget.

    python bench/automl.py [--budget 20] [--rounds 2] [--datasets breast_cancer,...]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn import datasets
from sklearn.metrics import log_loss, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from shipyard.automl import run_search

Loader = Callable[[], tuple[np.ndarray, np.ndarray]]


def _synthetic_classification() -> tuple[np.ndarray, np.ndarray]:
    x, y = datasets.make_classification(
        n_samples=20_000, n_features=20, n_informative=8, flip_y=0.05, random_state=0
    )
    return x, y


def _friedman() -> tuple[np.ndarray, np.ndarray]:
    x, y = datasets.make_friedman1(n_samples=5_000, n_features=10, noise=1.0, random_state=0)
    return x, y


DATA: dict[str, tuple[Loader, str]] = {
    "breast_cancer": (lambda: datasets.load_breast_cancer(return_X_y=True), "classification"),
    "wine": (lambda: datasets.load_wine(return_X_y=True), "classification"),
    "digits": (lambda: datasets.load_digits(return_X_y=True), "classification"),
    "diabetes": (lambda: datasets.load_diabetes(return_X_y=True), "regression"),
    "friedman1_5k": (_friedman, "regression"),
    "make_classification_20k": (_synthetic_classification, "classification"),
}


def _held_out(task: str, y: np.ndarray, output: np.ndarray) -> tuple[str, float]:
    if task == "regression":
        return "r2", float(r2_score(y, output))
    if output.shape[1] == 2:
        return "roc_auc", float(roc_auc_score(y, output[:, 1]))
    return "log_loss", float(log_loss(y, output))


def _shipyard(x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str, budget: float) -> Any:
    columns: dict[str, Any] = {f"f{i}": x[:, i] for i in range(x.shape[1])}
    columns["y"] = y
    started = time.monotonic()
    outcome = run_search(
        pa.table(columns),
        "y",
        task,
        metric=None,
        deadline=started + budget,
        tail_seconds=0.2,
        budget_seconds=budget,
    )
    wall = time.monotonic() - started
    model = outcome.model
    output = model.predict(xt) if task == "regression" else model.predict_proba(xt)
    return output, wall, outcome.leaderboard.winner


def _flaml(x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str, budget: float) -> Any:
    from flaml import AutoML

    automl = AutoML()
    started = time.monotonic()
    automl.fit(x, y, task=task, time_budget=budget, n_jobs=1, verbose=0, seed=0)
    wall = time.monotonic() - started
    output = automl.predict(xt) if task == "regression" else automl.predict_proba(xt)
    return output, wall, automl.best_estimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--datasets", default=",".join(DATA))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    sides = {"shipyard": _shipyard, "flaml": _flaml}
    summary = []
    print(f"budget {args.budget:g} s per run, {args.rounds} rounds, one thread per side")
    print(
        f"{'dataset':<24} {'round':>5} {'side':<9} {'metric':<8} {'held-out':>9} "
        f"{'wall s':>7} {'winner':<14}"
    )
    for name in args.datasets.split(","):
        loader, task = DATA[name]
        x, y = loader()
        split = train_test_split(
            x, y, test_size=0.25, random_state=0, stratify=y if task == "classification" else None
        )
        xtr, xte, ytr, yte = split
        scores: dict[str, list[float]] = {side: [] for side in sides}
        walls: dict[str, list[float]] = {side: [] for side in sides}
        metric = ""
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                output, wall, winner = sides[side](xtr, ytr, xte, task, args.budget)
                metric, value = _held_out(task, yte, np.asarray(output))
                scores[side].append(value)
                walls[side].append(wall)
                print(
                    f"{name:<24} {round_ + 1:>5} {side:<9} {metric:<8} {value:>9.5f} "
                    f"{wall:>7.2f} {winner:<14}",
                    flush=True,
                )
        summary.append((name, metric, scores, walls))
    print()
    print(
        f"{'dataset':<24} {'metric':<8} {'shipyard':>9} {'flaml':>9} {'diff (range)':>24} "
        f"{'wall/budget S':>14} {'wall/budget F':>14} {'better':>8}"
    )
    wins = 0
    for name, metric, scores, walls in summary:
        sign = -1.0 if metric == "log_loss" else 1.0
        diffs = [sign * (a - b) for a, b in zip(scores["shipyard"], scores["flaml"], strict=True)]
        ours, theirs = statistics.median(scores["shipyard"]), statistics.median(scores["flaml"])
        better = statistics.median(diffs) >= 0
        wins += better
        print(
            f"{name:<24} {metric:<8} {ours:>9.5f} {theirs:>9.5f} "
            f"{statistics.median(diffs):>+9.5f} ({min(diffs):+.4f}..{max(diffs):+.4f}) "
            f"{statistics.median(walls['shipyard']) / args.budget:>14.3f} "
            f"{statistics.median(walls['flaml']) / args.budget:>14.3f} "
            f"{'shipyard' if better else 'flaml':>8}"
        )
    print(
        f"\nShipyard's median held-out score at least FLAML's on {wins} of {len(summary)} datasets"
        " (diff: + means Shipyard better)"
    )


if __name__ == "__main__":
    main()
