"""An own-code trial: the user's ``entrypoint(context)`` with the trial's parameters.

``context.params`` holds the training spec's params with the trial's over them;
``context.report(value, step)`` records an intermediate value of the (first) objective and
``context.should_prune()`` says whether to stop (the code then returns or raises
``optuna.TrialPruned``). The objective is read from what the code returns (a mapping of
metric values) or else from the run's latest logged metrics.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.jobs import JobAttempt, TrainingContext
from shipyard.platform import Platform
from shipyard.sandbox import load_entry as _entry
from shipyard.schemas.job_code import entry_parts
from shipyard.store.metadata import tables as t

Report = Callable[[int, float], None]
_materialized: set[str] = set()
_lock = threading.Lock()


class _TrialAttempt(JobAttempt):
    """The job as a trial's code sees it: log lines, but no writes to the job's row."""

    def update(self, **fields: object) -> None:
        return None


class TrialContext(TrainingContext):
    """A training context for one trial: ``report`` and ``should_prune`` besides the rest."""

    def __init__(
        self,
        job: JobAttempt,
        run_id: str,
        params: dict[str, Any],
        datasets: dict[str, str],
        report: Report,
    ) -> None:
        super().__init__(job, run_id, params, datasets)
        self._report = report
        self._prune = False
        self.prune_reason = ""

    def report(self, value: float, step: int) -> None:
        """An intermediate value of the objective after ``step`` (epoch, round)."""
        try:
            self._report(int(step), float(value))
        except Exception as error:
            if type(error).__name__ != "Pruned":
                raise
            self._prune, self.prune_reason = True, str(error)
            self.log(self.prune_reason)

    def should_prune(self) -> bool:
        """Whether the pruner has stopped this trial at its last reported value."""
        return self._prune


def _code_directory(platform: Platform, job_id: str, files: dict[str, str]) -> Path:
    directory = platform.settings.jobs_dir / f"{job_id}-trial-code"
    with _lock:
        if job_id not in _materialized:
            shutil.rmtree(directory, ignore_errors=True)
            for path, digest in files.items():
                target = directory / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(platform.blobs.get_bytes(digest))
            _materialized.add(job_id)
    return directory


def train_code(
    platform: Platform,
    payload: dict[str, Any],
    run_id: str,
    params: dict[str, Any],
    report: Report,
) -> tuple[dict[str, float], Callable[[Session, str], None] | None]:
    from shipyard.tuning._trial import Pruned, _target

    training = _target(platform, payload["job_id"]).spec.training
    directory = _code_directory(platform, payload["job_id"], dict(training["code"]))
    entry_file, function = entry_parts(str(training["entrypoint"]))
    job = _TrialAttempt(platform, payload["job_id"], 0, str(payload["principal"]))
    merged = {**dict(training.get("params") or {}), **params}
    context = TrialContext(job, run_id, merged, dict(training["datasets"]), report)
    returned = _entry(directory, entry_file, function)(context)
    if context.should_prune():
        raise Pruned(context.prune_reason)
    if isinstance(returned, dict):
        metrics = {str(k): float(v) for k, v in returned.items()}
    else:
        with platform.db.session() as session:
            metrics = dict(
                session.execute(
                    sa.select(t.RunLatestMetric.key, t.RunLatestMetric.value).where(
                        t.RunLatestMetric.run_id == run_id
                    )
                ).all()
            )
    models = dict(context.models)

    def save(session: Session, run: str) -> None:
        for path, (digest, size) in models.items():
            session.merge(t.RunArtifact(run_id=run, path=path, digest=digest, size_bytes=size))

    return metrics, save if models else None
