"""The tuning kind's work in the job process: the study's sampler asks, trials run as
executor tasks (or here, one at a time), their outcomes are told back.

The study lives in the shared study storage, so a job resumed after its process died keeps
every finished trial; trials left running by the dead process are marked failed and asked
again with the same parameters. The job's run is the parent of every trial's run.
"""

from __future__ import annotations

import time

import optuna

from shipyard.clock import utcnow
from shipyard.errors import JobFailed
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._tune_loop import TrialLoop
from shipyard.jobs._tune_start import parent_run, recover, warm_start
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, write_batch
from shipyard.tuning import TuningSpec, open_storage
from shipyard.tuning._results import best_trials, own_trials
from shipyard.tuning._strategy import directions, pruner, sampler

optuna.logging.set_verbosity(optuna.logging.WARNING)


def run(job: JobAttempt) -> None:
    """Tune to the budget (trials, timeout), then record the best on the job's run."""
    platform = job.platform
    with platform.db.session() as session:
        row = session.get(j.TuningJob, job.id)
        assert row is not None
        spec = TuningSpec.model_validate(row.spec)
        version_id, name = row.dataset_version_id, row.study_name
    study = optuna.create_study(
        study_name=name,
        storage=open_storage(platform.settings),
        sampler=sampler(spec),
        pruner=pruner(spec),
        directions=directions(spec),
        load_if_exists=True,
    )
    run_id = parent_run(job, study, spec, version_id)
    first = recover(job, study, spec, run_id)
    if not study.user_attrs.get("warm_started"):
        first += warm_start(job, study, spec, version_id)
        study.set_user_attr("warm_started", True)
    started, cpu = time.monotonic(), time.process_time()
    loop = TrialLoop(job, study, spec, run_id, first)
    loop.run(deadline=started + spec.timeout_seconds if spec.timeout_seconds else None)
    job.log(
        f"study: {loop.finished} trials in {time.monotonic() - started:.3f} s "
        f"({time.process_time() - cpu:.3f} s CPU in this process)"
    )
    _finish(job, study, spec, run_id, loop.stopped_by_timeout)


def _finish(
    job: JobAttempt, study: optuna.Study, spec: TuningSpec, run_id: str, timed_out: bool
) -> None:
    best = best_trials(study, spec.goals)
    mine = own_trials(study)
    counts = {
        state: sum(1 for t in mine if t.state == getattr(optuna.trial.TrialState, state.upper()))
        for state in ("complete", "pruned", "fail")
    }
    summary = f"{len(mine)} trials: {counts['complete']} complete, {counts['pruned']} pruned, "
    summary += f"{counts['fail']} failed" + (" (timeout)" if timed_out else "")
    if not best:
        reasons = [str(t.user_attrs.get("reason", "")) for t in mine if t.user_attrs.get("reason")]
        raise JobFailed(
            "no trial finished; " + summary + (f"; last: {reasons[-1]}" if reasons else "")
        )
    goals = spec.goals
    if len(goals) == 1:
        top = best[0]
        message = f"best {goals[0].metric}={top.values[0]:.6g} at trial {top.number}; {summary}"
        points = [MetricPoint(key=f"best_{goals[0].metric}", value=float(top.values[0]))]
    else:
        message = f"Pareto front of {len(best)} trials {[t.number for t in best]}; {summary}"
        points = [MetricPoint(key="pareto_front_size", value=float(len(best)))]
    tags = {"shipyard.tuning.best_trials": ",".join(str(t.number) for t in best)}
    tags["shipyard.tuning.best_runs"] = ",".join(str(t.user_attrs.get("run_id")) for t in best)
    with job.platform.db.session() as session:
        write_batch(session, run_id, points, {}, tags)
        finished = session.get(t.Run, run_id)
        assert finished is not None
        finished.status, finished.end_time = "finished", utcnow()
        job.succeed(session, message)
    job.log(message)
