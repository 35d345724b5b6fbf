"""Before a tuning job asks for trials: its parent run, trials a dead attempt left running,
and warm starts from earlier tuning jobs."""

from __future__ import annotations

from typing import Any

import optuna
import sqlalchemy as sa

from shipyard.clock import utcnow
from shipyard.jobs._attempt import JobAttempt
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import start_run
from shipyard.tuning import TuningSpec, open_storage
from shipyard.tuning._results import best_trials
from shipyard.tuning._space import distribution, fits, holds

LOST = "the tuning job's process ended while this trial ran; asked again"


def parent_run(job: JobAttempt, study: optuna.Study, spec: TuningSpec, version_id: int) -> str:
    """The job's run (the same one again when the job is resumed), running."""
    known = study.user_attrs.get("parent_run_id")
    with job.platform.db.session() as session:
        run = session.get(t.Run, known) if known else None
        if run is None:
            run = start_run(
                session,
                experiment=str(spec.training.get("experiment", "default")),
                principal=job.principal,
                name=spec.name or job.id[:8],
                params={
                    "strategy": spec.strategy,
                    "pruner": spec.pruner,
                    "max_trials": str(spec.max_trials),
                    "max_parallel": str(spec.max_parallel),
                    "objectives": ",".join(f"{g.metric}:{g.direction}" for g in spec.goals),
                },
                tags={"shipyard.job": job.id, "shipyard.kind": "tuning"},
            )
            session.add(t.RunInput(run_id=run.id, dataset_version_id=version_id))
        else:
            run.status, run.end_time = "running", None
        job.attach_run(session, run.id)
        run_id = run.id
    if not known:
        study.set_user_attr("parent_run_id", run_id)
    return run_id


First = list[tuple[dict[str, Any], dict[str, Any]]]


def recover(job: JobAttempt, study: optuna.Study, spec: TuningSpec, parent_run_id: str) -> First:
    """Trials left running by a dead attempt: failed (with the reason), their runs failed,
    and their parameters to ask again (unless the process died while choosing them)."""
    storage = study._storage
    again: First = []
    lost = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in lost:
        storage.set_trial_user_attr(trial._trial_id, "reason", LOST)
        storage.set_trial_user_attr(trial._trial_id, "lost", True)
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        params = dict(trial.params)
        if all(name in params for name, p in spec.search_space.items() if holds(p, params)):
            again.append((params, {"retry_of": trial.number}))
    with job.platform.db.session() as session:
        session.execute(
            sa.update(t.Run)
            .where(t.Run.parent_run_id == parent_run_id, t.Run.status == "running")
            .values(status="failed", end_time=utcnow())
            .execution_options(synchronize_session=False)
        )
    if lost:
        job.log(f"resumed: trials {[tr.number for tr in lost]} were running; asked again")
    return again


def warm_start(job: JobAttempt, study: optuna.Study, spec: TuningSpec, version_id: int) -> First:
    """From each earlier job: on the same data, algorithm and objectives its finished trials
    join this study as known results; otherwise its best parameters are returned, to be
    tried first."""
    seeds: First = []
    for source in spec.warm_start:
        with job.platform.db.session() as session:
            row = session.get(j.TuningJob, source)
            assert row is not None
            earlier = TuningSpec.model_validate(row.spec)
            name, same_data = row.study_name, row.dataset_version_id == version_id
        old = optuna.load_study(study_name=name, storage=open_storage(job.platform.settings))
        same = same_data and _algorithm(earlier) == _algorithm(spec) and earlier.goals == spec.goals
        if same:
            added = 0
            for trial in old.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
                if not fits(trial.params, spec) or not trial.params:
                    continue
                study.add_trial(
                    optuna.trial.create_trial(
                        params=trial.params,
                        distributions={k: distribution(spec.search_space[k]) for k in trial.params},
                        values=trial.values,
                        user_attrs={
                            "warm_start_from": source,
                            "run_id": trial.user_attrs.get("run_id"),
                        },
                    )
                )
                added += 1
            job.log(f"warm start: {added} finished trials of job {source} added")
        else:
            for params in [b.params for b in best_trials(old, earlier.goals)][:3]:
                known = {k: v for k, v in params.items() if k in spec.search_space}
                seeds.append((known, {"warm_start_seed": source}))
            job.log(f"warm start: best parameters of job {source} tried first")
    return seeds


def _algorithm(spec: TuningSpec) -> str:
    return str(spec.training.get("estimator") or spec.training.get("entrypoint"))
