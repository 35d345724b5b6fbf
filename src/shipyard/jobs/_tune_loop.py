"""The ask-run-tell loop of a tuning job: up to ``max_parallel`` trials at a time.

One trial at a time runs in the job process itself (no task round trip); more run as tasks
of the configured executor. A timeout stops asking, cancels the running trials and keeps
what finished.
"""

from __future__ import annotations

import time
from typing import Any

import optuna
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.errors import ShipyardError
from shipyard.executors import TaskFailed, TaskHandle, TaskSpec, open_executor
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._tune_mirror import FINAL, AskedTrial, StudyMirror
from shipyard.schemas.tuning_spec import grid_size
from shipyard.store.metadata import tables as t
from shipyard.tuning import TuningSpec
from shipyard.tuning._results import own_trials
from shipyard.tuning._trial import ENTRY, execute_trial

_POLL_SECONDS = 0.01


class _Done:
    """A trial run in this process: already finished when submitted."""

    def __init__(self, result: dict[str, Any]) -> None:
        self._result = result

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        return self._result

    def cancel(self) -> None:
        return None

    def usage(self) -> None:
        return None  # counted in the job process's own record


class TrialLoop:
    def __init__(
        self,
        job: JobAttempt,
        study: optuna.Study,
        spec: TuningSpec,
        run_id: str,
        first: list[tuple[dict[str, Any], dict[str, Any]]],
    ) -> None:
        self.job, self.spec, self.run_id = job, spec, run_id
        self.mirror = StudyMirror(study, spec)
        for params, attrs in first:
            self.mirror.enqueue(params, attrs)
        counted = [
            tr for tr in own_trials(study) if tr.state in FINAL and not tr.user_attrs.get("lost")
        ]
        self.finished = len(counted)
        self.budget = spec.max_trials
        if spec.strategy == "grid":
            self.budget = min(self.budget, grid_size(spec))
        self.best: list[float] | None = None
        self.best_number: int | None = None
        for tr in counted:
            if tr.state == optuna.trial.TrialState.COMPLETE:
                self._consider(tr.number, list(tr.values))
        self.stopped_by_timeout = False

    def run(self, deadline: float | None) -> None:
        remote = self.job.remote  # Ray: trials are tasks there, cancelled with the job
        inline = self.spec.max_parallel == 1 and remote is None
        executor = None
        if not inline and remote is None:
            executor = open_executor(self.job.platform.settings, self.spec.max_parallel)
        running: dict[int, tuple[AskedTrial, TaskHandle]] = {}
        asked = self.finished
        try:
            while True:
                late = deadline is not None and time.monotonic() >= deadline
                while not late and len(running) < self.spec.max_parallel and asked < self.budget:
                    trial = self.mirror.ask()
                    payload = self._payload(trial)
                    asked += 1
                    handle: TaskHandle
                    if remote is not None:
                        handle = remote.submit(ENTRY, payload, cpus=1.0)
                    elif executor is None:
                        handle = _Done(self._inline(payload))
                    else:
                        handle = executor.submit(TaskSpec(ENTRY, payload))
                    running[trial.number] = (trial, handle)
                    if inline:
                        break
                if late and running:
                    self._stop_running(running)
                    self.stopped_by_timeout = True
                if not running:
                    self.stopped_by_timeout = self.stopped_by_timeout or (
                        late and asked < self.budget
                    )
                    return
                for number in [n for n, (_, h) in running.items() if h.done()]:
                    trial, handle = running.pop(number)
                    self._tell(trial, self._outcome(handle))
                if running and not any(h.done() for _, h in running.values()):
                    time.sleep(_POLL_SECONDS)
        finally:
            if executor is not None:
                executor.close()

    def _inline(self, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            return execute_trial(self.job.platform, payload)
        except Exception as error:  # a trial's failure is the trial's, not the job's
            return {"state": "failed", "reason": f"{type(error).__name__}: {error}", "values": None}

    def _payload(self, trial: AskedTrial) -> dict[str, Any]:
        return {
            "job_id": self.job.id,
            "trial_id": trial.stored_id,
            "number": trial.number,
            "params": trial.params,
            "principal": self.job.principal,
            "parent_run_id": self.run_id,
            "best": self.best,
        }

    def _outcome(self, handle: TaskHandle) -> dict[str, Any]:
        try:
            if self.job.remote is not None:  # counts the task's usage in the job's record
                return self.job.remote.wait(handle)
            return handle.result()
        except TaskFailed as error:
            return {"state": "failed", "reason": f"{error.kind}: {error}", "values": None}
        except ShipyardError as error:
            return {"state": "failed", "reason": f"{type(error).__name__}: {error}", "values": None}

    def _tell(self, trial: AskedTrial, outcome: dict[str, Any]) -> None:
        state = _STATES[outcome["state"]]
        attrs: dict[str, Any] = {}
        if outcome.get("run_id"):
            attrs["run_id"] = outcome["run_id"]
        if outcome.get("reason"):
            attrs["reason"] = str(outcome["reason"])[:2000]
        if state == optuna.trial.TrialState.COMPLETE and outcome.get("model"):
            attrs["model"] = True
        steps = {int(k): float(v) for k, v in (outcome.get("intermediate") or {}).items()}
        values = outcome.get("values") if state == optuna.trial.TrialState.COMPLETE else None
        self.mirror.tell(trial, state, values, attrs, steps)
        if state == optuna.trial.TrialState.COMPLETE:
            self._consider(trial.number, list(outcome["values"]))
        self.finished += 1
        self._show(trial, outcome)

    def _consider(self, number: int, values: list[float]) -> None:
        if len(self.spec.goals) > 1:
            return
        maximize = self.spec.goals[0].direction == "maximize"
        if self.best is None or (
            values[0] > self.best[0] if maximize else values[0] < self.best[0]
        ):
            self.best, self.best_number = values, number

    def _show(self, trial: AskedTrial, outcome: dict[str, Any]) -> None:
        goals = self.spec.goals
        params = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
        if outcome["state"] == "complete":
            value = ", ".join(
                f"{g.metric}={v:.6g}" for g, v in zip(goals, outcome["values"], strict=True)
            )
        else:
            value = f"{outcome['state']}: {outcome.get('reason', '')}"
        best = ""
        if self.best is not None:
            best = f" | best {goals[0].metric}={self.best[0]:.6g} (trial {self.best_number})"
        line = f"trial {trial.number} [{self.finished}/{self.budget}] {params} -> {value}{best}"
        self.job.log(line)
        stage = f"trial {self.finished}/{self.budget}" + (
            f", best {self.best[0]:.4g}" if self.best is not None else ""
        )
        self.job.progress(self.finished / max(self.budget, 1), stage)

    def _stop_running(self, running: dict[int, tuple[AskedTrial, TaskHandle]]) -> None:
        """Cancel running trials at the timeout: failed with the reason, their runs killed."""
        for trial, handle in running.values():
            handle.cancel()
            reason = {"reason": "cancelled: the tuning job's timeout was reached"}
            self.mirror.tell(trial, optuna.trial.TrialState.FAIL, None, reason)
        running.clear()
        with self.job.platform.db.session() as session:
            session.execute(
                sa.update(t.Run)
                .where(t.Run.parent_run_id == self.run_id, t.Run.status == "running")
                .values(status="killed", end_time=utcnow())
                .execution_options(synchronize_session=False)
            )
        self.job.log("timeout reached: running trials cancelled")


_STATES = {
    "complete": optuna.trial.TrialState.COMPLETE,
    "pruned": optuna.trial.TrialState.PRUNED,
    "failed": optuna.trial.TrialState.FAIL,
}


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
