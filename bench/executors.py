"""Executor bench: the same 32 tasks on the local process pool and on Ray, two at a time.

    python bench/executors.py            # 5 timed rounds per side
    python bench/executors.py --quick    # 2 timed rounds per side

Each round submits 32 tasks to one executor and waits for all of them: a small training
fit each (five-fold logistic regression on scikit-learn's bundled breast cancer data, one
core), then 32 tasks that do nothing (what a task costs the executor itself). Sides
alternate round by round after one warm-up round each (worker processes started, imports
done): the local pool with two workers, and ``ray:local`` (Ray started by this process on
127.0.0.1, two CPUs, tasks of one CPU). Printed: wall seconds per round (median and
range), the Ray/local ratio of paired rounds (median and range), and the per-task
overhead of each executor from the no-op rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shipyard.config import Settings
from shipyard.executors import Executor, TaskSpec, open_executor

TASKS = 32
HERE = Path(__file__).resolve().parent


def _round(executor: Executor, entry: str) -> float:
    started = time.perf_counter()
    handles = [
        executor.submit(TaskSpec(f"_executor_tasks:{entry}", {"C": 0.1 + i / 10}, cpus=1))
        for i in range(TASKS)
    ]
    for handle in handles:
        handle.result(timeout=600)
    return time.perf_counter() - started


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 timed rounds per side")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    # Ray's worker processes find the task module the way the local pool's do.
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *sys.path[1:]])
    home = Path(tempfile.mkdtemp(prefix="shipyard-bench-executors-"))
    executors: dict[str, Executor] = {
        "local": open_executor(Settings(home=home), max_workers=2),
        "ray": open_executor(Settings(home=home, executor="ray:local")),
    }
    try:
        print(f"{TASKS} tasks per round, 2 at a time; {rounds} timed rounds per side, alternated")
        for executor in executors.values():  # warm-up: workers up, imports done
            _round(executor, "fit")
            _round(executor, "nothing")
        fits: dict[str, list[float]] = {"local": [], "ray": []}
        empties: dict[str, list[float]] = {"local": [], "ray": []}
        for number in range(rounds):
            order = ["local", "ray"] if number % 2 == 0 else ["ray", "local"]
            for name in order:
                fits[name].append(_round(executors[name], "fit"))
                empties[name].append(_round(executors[name], "nothing"))
        ratios = [r / local for r, local in zip(fits["ray"], fits["local"], strict=True)]
        print()
        print("| side | 32 fits, wall s | 32 no-op tasks, wall s | per-task overhead, ms |")
        print("|---|---:|---:|---:|")
        for name in ("local", "ray"):
            overhead = [1000 * 2 * s / TASKS for s in empties[name]]  # two slots in parallel
            print(
                f"| {name} | {_spread(fits[name])} | {_spread(empties[name])} | "
                f"{statistics.median(overhead):.1f} |"
            )
        print()
        print(f"Ray/local wall time on 32 fits: median {_spread(ratios)} (paired rounds)")
        one_fit = statistics.median(fits["local"]) * 2 / TASKS
        print(f"one fit takes {1000 * one_fit:.0f} ms of a worker on the local pool")
    finally:
        for executor in executors.values():
            executor.close()


if __name__ == "__main__":
    main()
