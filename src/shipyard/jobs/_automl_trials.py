"""Recording an AutoML job's trials as child runs of its run, and its progress, cheaply.

Trials can finish many times a second, so they are buffered and written in one
transaction every few seconds (and once more when the search ends), and progress is
updated at most once a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from shipyard.clock import utcnow
from shipyard.jobs._attempt import JobAttempt
from shipyard.tracking import MetricPoint, start_run, write_batch

if TYPE_CHECKING:
    from shipyard.automl._evaluate import TrialResult
    from shipyard.automl._search import FamilyState

FLUSH_SECONDS = 2.0
PROGRESS_SECONDS = 1.0


class TrialRecorder:
    """Buffers finished trials; ``flush`` writes them as finished child runs."""

    def __init__(
        self, job: JobAttempt, run_id: str, experiment: str, metric: str, budget: float
    ) -> None:
        self.job, self.run_id, self.experiment = job, run_id, experiment
        self.metric, self.budget = metric, budget
        self.started = time.monotonic()
        self.pending: list[TrialResult] = []
        self.flushed = self.reported = self.started
        self.best: tuple[float, str] | None = None
        self.count = 0

    def record(self, result: TrialResult, state: FamilyState) -> None:
        """Keep a finished trial; write and report when it is time."""
        self.count += 1
        self.pending.append(result)
        if state.best is result and result.sample >= state.sample:
            better = self.best is None or (state.best_loss < self.best[0])
            if better:
                self.best = (state.best_loss, f"{result.mean:.5g} ({result.family})")
        now = time.monotonic()
        if now - self.flushed >= FLUSH_SECONDS:
            self.flush()
        if now - self.reported >= PROGRESS_SECONDS:
            self.reported = now
            elapsed = now - self.started
            best = self.best[1] if self.best else "none yet"
            self.job.progress(
                min(elapsed / self.budget, 0.95),
                f"trial {self.count} ({result.family}): best {self.metric}={best}; "
                f"{elapsed:.0f}/{self.budget:.0f} s",
            )

    def flush(self) -> None:
        """Write every buffered trial as a finished child run, in one transaction."""
        if not self.pending:
            return
        trials, self.pending = self.pending, []
        self.flushed = time.monotonic()
        with self.job.platform.db.session() as session:
            for trial in trials:
                run = start_run(
                    session,
                    experiment=self.experiment,
                    principal=self.job.principal,
                    name=f"{trial.family}-{trial.number}",
                    params={k: str(v) for k, v in trial.params.items()},
                    tags={"shipyard.job": self.job.id, "automl.family": trial.family},
                    parent_run_id=self.run_id,
                )
                points = [
                    MetricPoint(key=self.metric, value=trial.mean),
                    MetricPoint(key=f"{self.metric}_std", value=trial.std),
                    MetricPoint(key="fit_seconds", value=trial.fit_seconds),
                    MetricPoint(key="rows", value=float(trial.sample)),
                ]
                points += [
                    MetricPoint(key=f"{self.metric}_fold", value=value, step=i)
                    for i, value in enumerate(trial.fold_scores)
                ]
                write_batch(session, run.id, points, {}, {})
                run.status, run.end_time = "finished", utcnow()
                session.flush()
