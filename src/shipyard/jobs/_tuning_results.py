"""A tuning job's results: its trials, its best trial (or Pareto front), registering the
best trial's model through the registry's own path (with its evaluation gates), and the
HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, InvalidInput
from shipyard.jobs import _control as control
from shipyard.jobs._tuning import TUNING, job_resource
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.registry import ModelVersionInfo, register_model
from shipyard.registry._artifact import run_model_has_code
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tracking import run_resource
from shipyard.tuning import TrialInfo, TuningBest, TuningSpec, open_storage

if TYPE_CHECKING:
    import optuna


class TuningReport(BaseModel):
    """The report as one self-contained HTML page."""

    job_id: str
    html: str


def _study(platform: Platform, job_id: str) -> tuple[optuna.Study, TuningSpec, str]:
    with platform.db.session() as session:
        row = control.job_row(session, TUNING, job_id)
        tuning = session.get(j.TuningJob, job_id)
        assert tuning is not None
        spec = TuningSpec.model_validate(tuning.spec)
        name, label = tuning.study_name, row.name
    import optuna

    storage = open_storage(platform.settings)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise Conflict(
            f"tuning job {job_id} has not started its study yet", field="job_id"
        ) from None
    return study, spec, label


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def list_tuning_trials(ctx: RequestContext, job_id: str) -> list[TrialInfo]:
    """Every trial of the job (warm-start trials copied in are marked), in order."""
    from shipyard.tuning._results import trial_info

    study, _, _ = _study(ctx.platform, job_id)
    return _with_usage(ctx.platform, [trial_info(t) for t in study.get_trials(deepcopy=False)])


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def best_tuning_trials(ctx: RequestContext, job_id: str) -> TuningBest:
    """The best trial, or the Pareto front of several objectives."""
    from shipyard.tuning._results import best_trials, own_trials, trial_info
    from shipyard.tuning._savings import pruning_savings

    study, spec, _ = _study(ctx.platform, job_id)
    settings = ctx.platform.settings
    return TuningBest(
        objectives=spec.goals,
        trials=_with_usage(ctx.platform, [trial_info(t) for t in best_trials(study, spec.goals)]),
        pruning=pruning_savings(own_trials(study), settings.price_cpu_hour, settings.currency),
    )


def _with_usage(platform: Platform, trials: list[TrialInfo]) -> list[TrialInfo]:
    """The trials with what each used, from its run's tags (one query)."""
    from shipyard.tuning._trial import USAGE_TAG

    runs = [tr.run_id for tr in trials if tr.run_id]
    if not runs:
        return trials
    found: dict[str, dict[str, float]] = {}
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(t.RunTag.run_id, t.RunTag.key, t.RunTag.value).where(
                t.RunTag.run_id.in_(runs), t.RunTag.key.startswith(USAGE_TAG)
            )
        )
        for run_id, key, value in rows:
            found.setdefault(run_id, {})[key.removeprefix(USAGE_TAG)] = float(value)
    return [tr.model_copy(update={"usage": found.get(tr.run_id or "", {})}) for tr in trials]


def best_runs(session: Session, job_id: str) -> list[tuple[int, str]]:
    """(trial, run) of a finished tuning job's best trial or Pareto front, as recorded on the
    job's run when it succeeded; empty before."""
    job = session.get(j.Job, job_id)
    if job is None or job.kind != TUNING.name or job.run_id is None or job.status != "succeeded":
        return []
    tags = dict(
        session.execute(
            sa.select(t.RunTag.key, t.RunTag.value).where(
                t.RunTag.run_id == job.run_id, t.RunTag.key.in_(_BEST_TAGS)
            )
        ).all()
    )
    numbers, runs = (tags.get(k, "").split(",") for k in _BEST_TAGS)
    return [(int(n), r) for n, r in zip(numbers, runs, strict=False) if n and r]


_BEST_TAGS = ("shipyard.tuning.best_trials", "shipyard.tuning.best_runs")


def _register_uses(session: Session, job_id: str, name: str) -> list[Access]:
    """Registering under ``name``, reading the best runs' artifacts, and registering code
    when a best run's model carries code (as ``registry.register`` declares them)."""
    model = ResourceName.of(resource("model", name))
    found = [Access("registry:RegisterModel", model)]
    for _, run_id in best_runs(session, job_id):
        found.append(Access("tracking:GetArtifact", run_resource(session, run_id)))
        if run_model_has_code(session, run_id):
            found.append(Access("registry:RegisterCode", model))
    return found


@operation("tuning:DescribeTuningJob", job_resource, uses=_register_uses, mutating=True)
def register_best_trial(
    ctx: RequestContext, job_id: str, name: str, trial: int | None = None
) -> ModelVersionInfo:
    """Register the best trial's model (or trial ``trial`` of a Pareto front) of a finished
    tuning job as the next version of ``name``, through ``registry.register`` (its checks
    and evaluation gates); registering the same trial again returns the same version."""
    with ctx.platform.db.session() as session:
        control.job_row(session, TUNING, job_id)
        best = best_runs(session, job_id)
    if not best:
        raise Conflict(f"tuning job {job_id} has not succeeded with a best trial", field="job_id")
    chosen = best[0]
    if trial is not None:
        found = [b for b in best if b[0] == trial]
        if not found:
            raise InvalidInput(
                f"trial {trial} is not among the best {[n for n, _ in best]}", field="trial"
            )
        chosen = found[0]
    elif len(best) > 1:
        raise InvalidInput(
            f"several objectives: name a trial of the Pareto front {[n for n, _ in best]}",
            field="trial",
        )
    number, run_id = chosen
    return register_model(ctx, name, run_id, client_token=f"tuning-{job_id}-{number}")


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def tuning_report(ctx: RequestContext, job_id: str) -> TuningReport:
    """Optimization history, parameter importances and parallel coordinates, as one HTML
    page with plotly.js embedded (needs the ``reports`` extra on the server)."""
    from shipyard.tuning._report import render_report
    from shipyard.tuning._results import own_trials

    study, spec, label = _study(ctx.platform, job_id)
    if not own_trials(study):
        raise Conflict(f"tuning job {job_id} has no trials yet", field="job_id")
    from shipyard.tuning._savings import pruning_savings

    settings = ctx.platform.settings
    saved = pruning_savings(own_trials(study), settings.price_cpu_hour, settings.currency)
    title = f"Tuning job {label} ({job_id})"
    return TuningReport(job_id=job_id, html=render_report(study, spec, title, saved))
