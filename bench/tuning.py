"""Tuning bench: per-trial platform overhead against bare Optuna, and TPE against random.

    python bench/tuning.py            # 3 rounds x 25 trials; 5 seeds x 30 trials
    python bench/tuning.py --quick    # 2 rounds x 10 trials; 3 seeds x 20 trials

1. Overhead. The same objective (``training.fit`` of a LightGBM spec on scikit-learn's
   breast-cancer data, the trial's parameters over the spec's), the same TPE sampler and
   seed, one trial at a time. Bare: ``optuna.create_study()`` in memory, ``optimize``.
   Platform: a tuning job (max_parallel 1: trials in the job process), its study in the
   SQLite sidecar, every trial a child run with params and metrics, a model stored for
   each improving trial. Per-trial time is the study loop's wall time over its trials (the
   job's log says it), so the job process's start is left out; it is shown apart. Sides
   alternate round by round; the table gives each round's ratio, the median and range.
2. Trials to reach a target ROC AUC, TPE against random search, at the same budget, on
   the platform, for several seeds: the first trial number reaching it (budget + 1 when
   none did), median over seeds.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pyarrow as pa
from sklearn.datasets import load_breast_cancer, make_classification

from shipyard.client import Client
from shipyard.config import Settings
from shipyard.schemas.tuning_spec import parse_tuning_spec
from shipyard.training import TrainingSpec, fit
from shipyard.tuning._space import suggest
from shipyard.tuning._spec_trial import trial_training

TRAINING = {
    "dataset": "cancer@1",
    "target": "target",
    "task": "classification",
    "estimator": "lightgbm.LGBMClassifier",
    "split": {"kind": "holdout", "test_size": 0.25, "seed": 7},
}
SPACE = {
    "n_estimators": {"type": "int", "low": 20, "high": 200, "log": True},
    "learning_rate": {"type": "float", "low": 0.0005, "high": 0.5, "log": True},
    "num_leaves": {"type": "int", "low": 2, "high": 64},
    "min_child_samples": {"type": "int", "low": 2, "high": 100, "log": True},
}


def _spec(strategy: str, trials: int, seed: int, dataset: str = "cancer@1") -> dict[str, Any]:
    return {
        "training": {**TRAINING, "dataset": dataset},
        "objective": {"metric": "roc_auc", "direction": "maximize"},
        "strategy": strategy,
        "max_trials": trials,
        "seed": seed,
        "search_space": SPACE,
    }


def _bare(
    table: pa.Table, trials: int, seed: int, dataset: str, storage: str | None = None
) -> tuple[float, float]:
    """(wall, CPU) seconds per trial of bare Optuna on the same objective and sampler, its
    study in memory or (``storage``) in Optuna's own RDB storage."""
    spec = parse_tuning_spec(_spec("bayesian", trials, seed, dataset))
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed, constant_liar=False),
        storage=storage,
    )

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, spec)
        training = TrainingSpec.model_validate(
            trial_training({**TRAINING, "dataset": dataset}, params)
        )
        return fit(training, table).metrics["roc_auc"]

    started, cpu = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=trials)
    return (time.perf_counter() - started) / trials, (time.process_time() - cpu) / trials


_STUDY = re.compile(r"study: (\d+) trials in ([\d.]+) s \(([\d.]+) s CPU")


def _platform(client: Client, trials: int, seed: int, dataset: str) -> tuple[float, float, float]:
    """(wall, CPU seconds per trial of the study loop, seconds of the whole job)."""
    started = time.perf_counter()
    job = client.tuning.tune(_spec("bayesian", trials, seed, dataset))
    total = time.perf_counter() - started
    text = client.tuning.logs(job.id).text
    found = _STUDY.search(text)
    assert found is not None, text[-500:]
    count = int(found[1])
    return float(found[2]) / count, float(found[3]) / count, total


def overhead(
    client: Client, table: pa.Table, rounds: int, trials: int, dataset: str, label: str
) -> None:
    """Bare Optuna in memory, bare Optuna on its SQLite RDB storage, and a tuning job;
    the order rotates round by round."""
    rows = []
    for index in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            rdb = f"sqlite:///{scratch}/bare.db"
            sides = {
                "bare": lambda i=index: _bare(table, trials, i, dataset),
                "rdb": lambda i=index, url=rdb: _bare(table, trials, i, dataset, url),
                "ours": lambda i=index: _platform(client, trials, i, dataset)[:2],
            }
            order = list(sides)[index % 3 :] + list(sides)[: index % 3]
            got = {name: sides[name]() for name in order}
        rows.append((index, got["bare"], got["rdb"], got["ours"]))
    print(f"\n1. Per-trial time on {label}, TPE, {trials} trials, max_parallel 1 (ms per trial)")
    header = ("round", "bare", "bare+RDB", "ours", "ours/bare", "ours/RDB", "CPU ours/bare")
    print("{:>5} {:>8} {:>9} {:>8} {:>10} {:>9} {:>14}".format(*header))
    for index, bare, rdb, ours in rows:
        print(
            f"{index:>5} {bare[0] * 1e3:>8.1f} {rdb[0] * 1e3:>9.1f} {ours[0] * 1e3:>8.1f} "
            f"{ours[0] / bare[0]:>10.3f} {ours[0] / rdb[0]:>9.3f} {ours[1] / bare[1]:>14.3f}"
        )
    for kind, ratios, added in (
        ("wall, ours/bare", [r[3][0] / r[1][0] for r in rows], [r[3][0] - r[1][0] for r in rows]),
        (
            "wall, ours/bare+RDB",
            [r[3][0] / r[2][0] for r in rows],
            [r[3][0] - r[2][0] for r in rows],
        ),
        ("CPU, ours/bare", [r[3][1] / r[1][1] for r in rows], [r[3][1] - r[1][1] for r in rows]),
    ):
        median = statistics.median(ratios)
        print(
            f"{kind}: median ratio {median:.3f} (range {min(ratios):.3f} - {max(ratios):.3f}); "
            f"{(median - 1) * 100:+.1f}% per trial ({statistics.median(added) * 1e3:+.1f} ms)"
        )


def reach(client: Client, seeds: int, trials: int, target: float) -> None:
    found: dict[str, list[int]] = {"bayesian": [], "random": []}
    for seed in range(seeds):
        order = ("bayesian", "random") if seed % 2 == 0 else ("random", "bayesian")
        for strategy in order:
            job = client.tuning.tune(_spec(strategy, trials, 100 + seed))
            values = [(t.number, (t.values or [0.0])[0]) for t in client.tuning.trials(job.id)]
            first = next((n + 1 for n, v in sorted(values) if v >= target), trials + 1)
            found[strategy].append(first)
    print(f"\n2. Trials to reach roc_auc >= {target} (budget {trials}; {trials + 1} = not reached)")
    print(f"{'strategy':>9} {'per seed':>30} {'median':>7}")
    for strategy, firsts in found.items():
        print(f"{strategy:>9} {firsts!s:>30} {statistics.median(firsts):>7}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--target", type=float, default=0.98)
    args = parser.parse_args()
    rounds, trials, seeds, budget = (2, 10, 3, 20) if args.quick else (3, 25, 5, 30)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as root:
        frame = load_breast_cancer(as_frame=True).frame
        frame.columns = [c.replace(" ", "_") for c in frame.columns]
        csv = Path(root) / "cancer.csv"
        frame.to_csv(csv, index=False)
        client = Client(settings=Settings(home=Path(root) / "home"))
        client.datasets.ingest(csv, "cancer")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        overhead(client, table, rounds, trials, "cancer@1", "breast cancer (569 rows)")
        # a trial of the size tuning is usually run on: 20,000 generated rows, 30 columns
        features, labels = make_classification(20_000, 30, n_informative=12, random_state=0)
        large = pd.DataFrame(features, columns=[f"x{i}" for i in range(30)])
        large["target"] = labels
        large.to_csv(Path(root) / "synth.csv", index=False)
        client.datasets.ingest(Path(root) / "synth.csv", "synth")
        overhead(
            client,
            pa.Table.from_pandas(large, preserve_index=False),
            rounds,
            trials // 2,
            "synth@1",
            "20,000 generated rows",
        )
        reach(client, seeds, budget, args.target)
        client.close()


if __name__ == "__main__":
    main()
