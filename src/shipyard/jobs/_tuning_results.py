"""A tuning job's results: its trials, its best trial (or Pareto front), registering the
best trial's model through the registry's own path (with its evaluation gates), and the
HTML report."""

from __future__ import annotations

import optuna
from pydantic import BaseModel
from sqlalchemy.orm import Session

from shipyard.errors import Conflict, InvalidInput
from shipyard.jobs import _control as control
from shipyard.jobs._tuning import TUNING, job_resource
from shipyard.names import resource
from shipyard.platform import Platform
from shipyard.registry import ModelVersionInfo, register_model
from shipyard.security import Access, RequestContext, ResourceName, operation
from shipyard.store.metadata import job_tables as j
from shipyard.tuning import (
    TrialInfo,
    TuningBest,
    TuningSpec,
    best_trials,
    open_storage,
    own_trials,
    render_report,
    trial_info,
)


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
    storage = open_storage(platform.settings)
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise Conflict(f"tuning job {job_id} has not started its study yet", field="job_id") from None
    return study, spec, label


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def list_tuning_trials(ctx: RequestContext, job_id: str) -> list[TrialInfo]:
    """Every trial of the job (warm-start trials copied in are marked), in order."""
    study, _, _ = _study(ctx.platform, job_id)
    return [trial_info(t) for t in study.get_trials(deepcopy=False)]


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def best_tuning_trials(ctx: RequestContext, job_id: str) -> TuningBest:
    """The best trial, or the Pareto front of several objectives."""
    study, spec, _ = _study(ctx.platform, job_id)
    return TuningBest(objectives=spec.goals, trials=[trial_info(t) for t in best_trials(study, spec.goals)])


def _register_uses(session: Session, job_id: str, name: str) -> list[Access]:
    return [Access("registry:RegisterModel", ResourceName.of(resource("model", name)))]


@operation("tuning:DescribeTuningJob", job_resource, uses=_register_uses, mutating=True)
def register_best_trial(
    ctx: RequestContext, job_id: str, name: str, trial: int | None = None
) -> ModelVersionInfo:
    """Register the best trial's model (or trial ``trial`` of a Pareto front) as the next
    version of ``name``, through the registry's register path and its evaluation gates."""
    study, spec, _ = _study(ctx.platform, job_id)
    best = best_trials(study, spec.goals)
    if not best:
        raise Conflict(f"tuning job {job_id} has no finished trial with a model", field="job_id")
    chosen = best[0]
    if trial is not None:
        found = [t for t in best if t.number == trial]
        if not found:
            raise InvalidInput(f"trial {trial} is not among the best {[t.number for t in best]}", field="trial")
        chosen = found[0]
    elif len(best) > 1:
        raise InvalidInput(
            f"several objectives: name a trial of the Pareto front {[t.number for t in best]}",
            field="trial",
        )
    run_id = str(chosen.user_attrs["run_id"])
    return register_model(ctx, name, run_id, client_token=f"tuning-{job_id}-{chosen.number}")


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def tuning_report(ctx: RequestContext, job_id: str) -> TuningReport:
    """Optimization history, parameter importances and parallel coordinates, as one HTML
    page with plotly.js embedded (needs the ``reports`` extra on the server)."""
    study, spec, label = _study(ctx.platform, job_id)
    if not own_trials(study):
        raise Conflict(f"tuning job {job_id} has no trials yet", field="job_id")
    return TuningReport(job_id=job_id, html=render_report(study, spec, f"Tuning job {label} ({job_id})"))
