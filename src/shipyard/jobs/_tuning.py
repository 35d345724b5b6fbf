"""Tuning jobs: a search space over a training spec's (or own code's) parameters, searched by
Optuna in a job of the one job system; each trial a child run of the job's run.

Creating one needs what each trial does (reading the dataset version, runs in the
experiment, running code for own code) and describing every job it warm-starts from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.datasets import dataset_ref_resource
from shipyard.errors import InvalidInput, NotFound
from shipyard.jobs import _control as control
from shipyard.jobs._kinds import JobKind, register_kind
from shipyard.jobs._training import limit_keys, named, spec_text, split_limits
from shipyard.jobs._tuning_check import check_code_training, check_spec_training
from shipyard.names import resource
from shipyard.schemas.jobs import LogChunk, TuningJobInfo
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.tuning import parse_tuning_spec, study_name


def _describe(session: Session, row: j.Job) -> TuningJobInfo:
    tuning = session.get(j.TuningJob, row.id)
    assert tuning is not None
    version = session.get(t.DatasetVersion, tuning.dataset_version_id)
    dataset = session.get(t.Dataset, version.dataset_id) if version is not None else None
    label = f"{dataset.name}@{version.version}" if dataset and version else "?"
    return TuningJobInfo(**control.common_fields(row), dataset=label, spec=tuning.spec)


TUNING = register_kind(
    JobKind(
        name="tuning",
        resource_kind="tuning-job",
        noun="tuning job",
        worker="shipyard.jobs._tune_worker:run",
        describe=_describe,
    )
)
job_resource = control.job_resource(TUNING)


def _training_of(spec: object) -> dict[str, Any]:
    training = spec.get("training") if isinstance(spec, dict) else None
    return training if isinstance(training, dict) else {}


def new_tuning_resource(spec: dict[str, Any]) -> str:
    """New tuning jobs are named by their training's experiment: ``sy:tuning-job/<exp>``."""
    experiment = spec_text(_training_of(spec), "experiment", "default")
    return resource("tuning-job", experiment if experiment and named(experiment) else "*")


def _tuning_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    """Reading every dataset version the trials train on, runs in the experiment, running
    code (own code), and describing each job it warm-starts from."""
    training = _training_of(spec)
    found = []
    if "entrypoint" in training:
        found.append(Access("training:RunCode", new_tuning_resource(spec)))
    many = training.get("datasets")
    refs = list(many.values()) if isinstance(many, dict) else [spec_text(training, "dataset")]
    for ref in refs:
        if isinstance(ref, str) and ref:
            found.append(
                Access(
                    "datasets:ReadData",
                    dataset_ref_resource(session, ref, field="training.dataset"),
                )
            )
    experiment = spec_text(training, "experiment", "default")
    if named(experiment):
        found.append(Access("tracking:CreateRun", resource("experiment", experiment or "")))
    sources = spec.get("warm_start") if isinstance(spec, dict) else None
    for source in sources if isinstance(sources, list) else []:
        if isinstance(source, str):
            found.append(Access("tuning:DescribeTuningJob", job_resource(session, source)))
    return found


@operation(
    "tuning:CreateTuningJob",
    new_tuning_resource,
    uses=_tuning_uses,
    context=limit_keys,
    mutating=True,
)
def create_tuning_job(
    ctx: RequestContext, spec: dict[str, Any], files: dict[str, str] | None = None
) -> TuningJobInfo:
    """Check a tuning spec (its training spec, search space, strategy, pruner, budget), then
    start the search in a job worker; follow it by its log.

    ``files`` carries own code (the training spec has an ``entrypoint``). Limits (the job's
    ``max_runtime``, ``memory_mb``...) go under ``limits``.
    """
    if not isinstance(spec, dict):
        raise InvalidInput("a tuning spec must be a mapping of keys to values", field="spec")
    body, limits = split_limits(spec)
    parsed = parse_tuning_spec(body)
    with ctx.platform.db.session() as session:
        for index, source in enumerate(parsed.warm_start):
            if session.get(j.TuningJob, source) is None:
                raise NotFound(f"tuning job {source!r} does not exist", field=f"warm_start.{index}")
        if "entrypoint" in parsed.training:
            training, version_id = check_code_training(ctx.platform, session, parsed, files)
        else:
            if files:
                raise InvalidInput("files go with own code (an entrypoint)", field="files")
            training, version_id = check_spec_training(session, parsed)
        stored = parsed.model_dump(mode="json", exclude_none=True) | {"training": training}
        experiment = str(training.get("experiment", "default"))
        row = control.new_job(
            session,
            TUNING,
            name=parsed.name or "tuning",
            scope=experiment,
            principal=ctx.principal,
            limits=limits,
        )
        if not parsed.name:
            row.name = f"tuning-{row.id[:6]}"
        session.add(
            j.TuningJob(
                id=row.id, spec=stored, dataset_version_id=version_id, study_name=study_name(row.id)
            )
        )
        session.flush()
        info = _describe(session, row)
    control.launch(ctx.platform, TUNING, info.id)
    return info


def _info(ctx: RequestContext, job_id: str) -> TuningJobInfo:
    info = control.describe(ctx.platform, TUNING, job_id)
    assert isinstance(info, TuningJobInfo)
    return info


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def get_tuning_job(ctx: RequestContext, job_id: str) -> TuningJobInfo:
    return _info(ctx, job_id)


@operation("tuning:ListTuningJobs", lambda: resource("tuning-job"), mutating=False)
def list_tuning_jobs(ctx: RequestContext, limit: int = 50) -> list[TuningJobInfo]:
    return [
        info
        for info in control.list_jobs(ctx.platform, TUNING, limit)
        if isinstance(info, TuningJobInfo)
    ]


@operation("tuning:DescribeTuningJob", job_resource, mutating=False)
def read_tuning_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log (a line per trial: parameters, value, best so far) from ``offset``."""
    return control.read_log(ctx.platform, TUNING, job_id, offset)


@operation("tuning:CancelTuningJob", job_resource, mutating=True)
def cancel_tuning_job(ctx: RequestContext, job_id: str) -> TuningJobInfo:
    """End the job's process tree (its running trials with it); marked cancelled."""
    control.refuse_if_ended(ctx.platform, TUNING, job_id)
    control.stop(ctx.platform, job_id, "cancelled", f"cancelled by {ctx.principal}")
    return _info(ctx, job_id)


def _resume_uses(session: Session, job_id: str) -> list[Access]:
    """What running on needs, as at creation: the dataset versions, runs in the experiment,
    running code (own code). The warm-start sources were read when the job began."""
    row = session.get(j.TuningJob, job_id)
    if row is None:
        return []  # the job's own check answers for a job that does not exist
    spec = {key: value for key, value in dict(row.spec).items() if key != "warm_start"}
    return _tuning_uses(session, spec)


@operation("tuning:ResumeTuningJob", job_resource, uses=_resume_uses, mutating=True)
def resume_tuning_job(ctx: RequestContext, job_id: str) -> TuningJobInfo:
    """Start a failed, cancelled or timed-out tuning job again: finished trials are kept,
    trials it left running are asked again, and it runs on to its budget."""
    control.resume(ctx.platform, TUNING, job_id)
    return _info(ctx, job_id)
