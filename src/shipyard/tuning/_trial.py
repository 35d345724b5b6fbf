"""One trial: a child run of the tuning job's run, trained with the trial's parameters.

Runs as an executor task (``shipyard.tuning._trial:run_trial``) or, with one trial at a
time, in the tuning job's own process (``execute_trial``). The trial is rebuilt from the
shared study storage, so intermediate values are reported and pruning decided against
every other trial's, whichever machine ran them. The run gets the parameters, the
intermediate values as steps of the objective metric, the final metrics, and a model when
the trial beats the best value known when it started (so the best trial always has one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import optuna
import pyarrow as pa

from shipyard.clock import utcnow
from shipyard.datasets import load_version_table
from shipyard.jobs._usage import WorkUsage
from shipyard.platform import Platform
from shipyard.schemas.tuning_spec import TuningSpec
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, start_run, write_batch
from shipyard.training._rounds import StopTraining
from shipyard.tuning._storage import open_storage
from shipyard.tuning._strategy import pruner

ENTRY = "shipyard.tuning._trial:run_trial"
USAGE_TAG = "shipyard.trial.usage."
"""Tags of a trial's run with what it used: ``wall_seconds``, ``cpu_seconds``, ``peak_mib``."""
REPORT_EVERY_FROM = 10
REPORT_EVERY = 5


def reported_step(step: int) -> bool:
    """Rounds whose value goes to the study: each of the first ten, then every fifth (one
    storage write per reported round; the same schedule for every trial, as pruners need)."""
    return step <= REPORT_EVERY_FROM or step % REPORT_EVERY == 0


class Pruned(StopTraining):
    """The pruner stopped this trial; the message says at which step and value."""


@dataclass(frozen=True)
class TuningTarget:
    """What every trial of one job shares: the spec, the dataset version, the study."""

    spec: TuningSpec
    version_id: int
    study_name: str
    job_name: str


_targets: dict[tuple[int, str], TuningTarget] = {}
_tables: dict[tuple[int, int], pa.Table] = {}


def _target(platform: Platform, job_id: str) -> TuningTarget:
    """The job's spec and study, read once per process."""
    key = (id(platform), job_id)
    if key not in _targets:
        _targets[key] = _read_target(platform, job_id)
    return _targets[key]


def _read_target(platform: Platform, job_id: str) -> TuningTarget:
    with platform.db.session() as session:
        row = session.get(j.TuningJob, job_id)
        job = session.get(j.Job, job_id)
        assert row is not None and job is not None
        return TuningTarget(
            TuningSpec.model_validate(row.spec), row.dataset_version_id, row.study_name, job.name
        )


_studies: dict[tuple[int, str], optuna.Study] = {}


def _study(platform: Platform, target: TuningTarget) -> optuna.Study:
    """The stored study (with the job's pruner), loaded once per process."""
    key = (id(platform), target.study_name)
    if key not in _studies:
        _studies[key] = optuna.load_study(
            study_name=target.study_name,
            storage=open_storage(platform.settings),
            sampler=optuna.samplers.RandomSampler(),
            pruner=pruner(target.spec),
        )
    return _studies[key]


def _table(platform: Platform, version_id: int) -> pa.Table:
    """The dataset version, loaded (and its digest verified) once per process."""
    key = (id(platform), version_id)
    if key not in _tables:
        _tables.clear()
        with platform.db.session() as session:
            version = session.get(t.DatasetVersion, version_id)
            assert version is not None
        _tables[key] = load_version_table(platform, version)
    return _tables[key]


def run_trial(payload: dict[str, Any]) -> dict[str, Any]:
    """The executor task: one trial in a worker process."""
    from shipyard.executors import task_platform

    return execute_trial(task_platform(), payload)


def execute_trial(platform: Platform, payload: dict[str, Any]) -> dict[str, Any]:
    """Train one trial and record its run; ``{"state", "values", "run_id", "reason", ...}``."""
    started = time.perf_counter()
    usage = WorkUsage()
    target = _target(platform, payload["job_id"])
    spec = target.spec
    stored: list[optuna.Trial] = []  # the stored trial, read only when a pruner needs it

    def trial() -> optuna.Trial:
        if not stored:
            stored.append(optuna.Trial(_study(platform, target), int(payload["trial_id"])))
        return stored[0]

    params: dict[str, Any] = dict(payload["params"])
    experiment = str(spec.training.get("experiment", "default"))
    with platform.db.session() as session:
        run = start_run(
            session,
            experiment=experiment,
            principal=str(payload["principal"]),
            name=f"{target.job_name}-trial-{payload['number']}",
            params={k: str(v) for k, v in params.items()},
            tags={"shipyard.job": payload["job_id"], "shipyard.trial": str(payload["number"])},
            parent_run_id=payload.get("parent_run_id"),
        )
        session.add(t.RunInput(run_id=run.id, dataset_version_id=target.version_id))
        run_id = run.id
    steps: list[MetricPoint] = []
    goal = spec.goals[0].metric

    def report(step: int, value: float) -> None:
        steps.append(MetricPoint(key=goal, value=value, step=step))
        if len(spec.goals) > 1 or spec.pruner == "none" or not reported_step(step):
            return
        trial().report(value, step)
        if trial().should_prune():
            raise Pruned(f"pruned at step {step}: {goal}={value:.6g} ({spec.pruner})")

    outcome: dict[str, Any] = {"run_id": run_id, "number": payload["number"]}
    try:
        if "entrypoint" in spec.training:
            from shipyard.tuning._code_trial import train_code

            metrics, saved = train_code(platform, payload, run_id, params, report)
        else:
            from shipyard.tuning._spec_trial import train_spec

            metrics, saved = train_spec(
                platform, target, _table(platform, target.version_id), params, report
            )
        values = [_value(metrics, g.metric) for g in spec.goals]
    except Exception as error:
        pruned = isinstance(error, StopTraining | optuna.TrialPruned)
        reason = str(error) if pruned else f"{type(error).__name__}: {error}"
        status = "killed" if pruned else "failed"
        _end(platform, run_id, status, steps, {}, reason, None, usage.record())
        state = "pruned" if pruned else "failed"
        return outcome | {
            "state": state,
            "reason": reason,
            "values": None,
            "intermediate": _reported(steps, spec),
            "seconds": _since(started),
        }
    keep = _beats(values, payload.get("best"), spec)
    _end(
        platform, run_id, "finished", steps, metrics, None, saved if keep else None, usage.record()
    )
    return outcome | {
        "state": "complete",
        "values": values,
        "metrics": metrics,
        "model": keep and saved is not None,
        "intermediate": _reported(steps, spec),
        "seconds": _since(started),
    }


def _reported(steps: list[MetricPoint], spec: TuningSpec) -> dict[int, float]:
    """The intermediate values given to the pruner, for the job's copy of the study."""
    if spec.pruner == "none":
        return {}
    return {p.step: p.value for p in steps if reported_step(p.step)}


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 4)


def _value(metrics: dict[str, float], name: str) -> float:
    if name not in metrics:
        raise KeyError(f"the training reported no {name!r} (it reported {sorted(metrics)})")
    return float(metrics[name])


def _beats(values: list[float], best: list[float] | None, spec: TuningSpec) -> bool:
    """Whether to keep this trial's model: the first, any of several objectives (the Pareto
    front is not known here), or at least as good as the best so far."""
    if best is None or len(spec.goals) > 1:
        return True
    if spec.goals[0].direction == "maximize":
        return values[0] >= best[0]
    return values[0] <= best[0]


def _end(
    platform: Platform,
    run_id: str,
    status: str,
    steps: list[MetricPoint],
    metrics: dict[str, float],
    reason: str | None,
    saved: Any,
    usage: dict[str, float],
) -> None:
    """Write the run's steps, final metrics (at the last step, so they are its latest), the
    reason it stopped, what it used (wall, CPU seconds, peak memory), its model, and end it."""
    last = max((p.step for p in steps), default=0)
    points = steps + [MetricPoint(key=k, value=float(v), step=last) for k, v in metrics.items()]
    tags = {"shipyard.trial.state": "complete" if status == "finished" else "pruned"}
    if status == "failed":
        tags["shipyard.trial.state"] = "failed"
    if reason:
        tags["shipyard.trial.reason"] = reason[:4000]
    tags |= {f"{USAGE_TAG}{key}": f"{value:g}" for key, value in usage.items()}
    with platform.db.session() as session:
        write_batch(session, run_id, points, {}, tags)
        if saved is not None:
            saved(session, run_id)
        run = session.get(t.Run, run_id)
        assert run is not None
        run.status, run.end_time = status, utcnow()
