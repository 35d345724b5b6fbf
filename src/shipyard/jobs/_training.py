"""Training jobs: a spec trains an allowlisted estimator, or runs the user's own code.

Both are the training kind of the one job system (``_control``): the same row shape,
worker main, limits, cancel and resource record; own code is a mode of the kind with its
own create operation, which needs ``training:RunCode`` besides creating the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.contracts import refuse_failed_validation
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import InvalidInput
from shipyard.jobs import _control as control
from shipyard.jobs._init_model import init_model_uses, resolve_init_model
from shipyard.jobs._kinds import JobKind, register_kind
from shipyard.names import NAME_PATTERN, check_name, parse_reference, resource
from shipyard.schemas.jobs import JobLimits, LogChunk, TrainingJobInfo
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

if TYPE_CHECKING:
    from shipyard.training import TrainingSpec

LIMIT_KEYS = ("max_runtime", "cpus", "memory_mb", "max_retries")


def _describe(session: Session, row: j.Job) -> TrainingJobInfo:
    training = session.get(t.TrainingJob, row.id)
    assert training is not None
    name, version = session.execute(
        sa.select(t.Dataset.name, t.DatasetVersion.version)
        .join(t.Dataset, t.Dataset.id == t.DatasetVersion.dataset_id)
        .where(t.DatasetVersion.id == training.dataset_version_id)
    ).one()
    return TrainingJobInfo(
        **control.common_fields(row), dataset=f"{name}@{version}", spec=training.spec
    )


TRAINING = register_kind(
    JobKind(
        name="training",
        resource_kind="training-job",
        noun="training job",
        worker="shipyard.jobs._train_worker:run",
        describe=_describe,
    )
)


def split_limits(spec: dict[str, Any]) -> tuple[dict[str, Any], JobLimits]:
    """The spec without its limits (``limits:`` or top-level ``max_runtime``...), and them."""
    body = dict(spec)
    given = body.pop("limits", None)
    if given is not None and not isinstance(given, dict):
        raise InvalidInput("must be a mapping of limits", field="limits")
    limits = dict(given or {})
    for key in LIMIT_KEYS:
        if key in body:
            limits[key] = body.pop(key)
    return body, control.parse_limits(limits)


def limit_keys(spec: object) -> dict[str, object]:
    """A job's limits as condition keys (``sy:MaxRuntime`` seconds, ``sy:Cpus``,
    ``sy:MemoryMb``); a limit not set is absent, and all are when the limits do not parse
    (the call is then refused for that reason)."""
    if not isinstance(spec, dict):
        return {}
    try:
        _, limits = split_limits(spec)
    except InvalidInput:
        return {}
    return {
        "sy:MaxRuntime": limits.max_runtime,
        "sy:Cpus": limits.cpus,
        "sy:MemoryMb": limits.memory_mb,
    }


def _check_against_dataset(spec: TrainingSpec, version: t.DatasetVersion) -> None:
    """Refuse before any work starts: unknown target or features, nulls in the target,
    preprocessing roles that do not fit the columns."""
    from shipyard.training import check_columns

    check_columns(spec, {c["name"]: c["type"] for c in version.schema})
    columns = {c["name"] for c in version.schema}
    if spec.target not in columns:
        raise InvalidInput(
            f"column {spec.target!r} is not in dataset columns {sorted(columns)}", field="target"
        )
    for feature in spec.features or []:
        if feature not in columns:
            raise InvalidInput(f"column {feature!r} is not in the dataset", field="features")
    profile = {c["name"]: c for c in version.profile.get("columns", [])}
    nulls = profile.get(spec.target, {}).get("nulls", 0)
    if nulls:
        raise InvalidInput(f"target column {spec.target!r} has {nulls} null values", field="target")


def spec_text(spec: object, key: str, default: str | None = None) -> str | None:
    value = spec.get(key, default) if isinstance(spec, dict) else None
    return value if isinstance(value, str) else None


def named(value: str | None) -> bool:
    return value is not None and NAME_PATTERN.fullmatch(value) is not None


def new_job_resource(spec: dict[str, Any]) -> str:
    """New jobs are named by their experiment: ``sy:training-job/<experiment>``."""
    experiment = spec_text(spec, "experiment", "default")
    return resource("training-job", experiment if experiment and named(experiment) else "*")


def _training_uses(session: Session, spec: dict[str, Any]) -> list[Access]:
    """Reading the dataset version it trains on, a run in its experiment, and the model
    version it continues from (``init_model``)."""
    found = []
    dataset = spec_text(spec, "dataset")
    if dataset:
        found.append(
            Access("datasets:ReadData", dataset_ref_resource(session, dataset, field="dataset"))
        )
    experiment = spec_text(spec, "experiment", "default")
    if named(experiment):
        found.append(Access("tracking:CreateRun", resource("experiment", experiment or "")))
    return found + init_model_uses(session, spec)


@operation(
    "training:CreateTrainingJob",
    new_job_resource,
    uses=_training_uses,
    context=limit_keys,
    mutating=True,
)
def create_training_job(ctx: RequestContext, spec: dict[str, Any]) -> TrainingJobInfo:
    """Check a training spec, then start it in a worker process; poll the job for progress.

    Limits go in the spec: ``max_runtime`` (seconds), ``cpus``, ``memory_mb``,
    ``max_retries``, at the top level or under ``limits``.
    """
    from shipyard.training import check_spec, parse_spec  # libraries load only when training

    if not isinstance(spec, dict):
        raise InvalidInput("a training spec must be a mapping of keys to values", field="spec")
    if "entrypoint" in spec:
        raise InvalidInput(
            "a spec with an entrypoint runs your own code: send its files to "
            "training.run_code (shipyard train SPEC.yaml does)",
            field="entrypoint",
        )
    body, limits = split_limits(spec)
    parsed = parse_spec(body)
    ref = parse_reference(parsed.dataset, field="dataset")
    if ref.alias is not None:
        raise InvalidInput("datasets are named by version (name@3), not alias", field="dataset")
    check_name(parsed.experiment, field="experiment")
    with ctx.platform.db.session() as session:
        version = find_version(session, ref.name, ref.version)
        _check_against_dataset(parsed, version)
        if not parsed.force:
            refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
        columns = [c["name"] for c in version.schema]
        flavor = check_spec(parsed).flavor
        parent = resolve_init_model(session, parsed, flavor, columns)
        stored = parsed.model_dump(mode="json")
        stored["dataset"] = f"{ref.name}@{version.version}"
        if parent is None:
            del stored["init_model"]
        else:
            stored["init_model"] = parent
        row = control.new_job(
            session,
            TRAINING,
            name=parsed.name or f"{parsed.estimator.rsplit('.', 1)[-1]}-job",
            scope=parsed.experiment,
            principal=ctx.principal,
            limits=limits,
        )
        if not parsed.name:
            row.name = f"{parsed.estimator.rsplit('.', 1)[-1]}-{row.id[:6]}"
        session.add(t.TrainingJob(id=row.id, spec=stored, dataset_version_id=version.id))
        session.flush()
        info = _describe(session, row)
    control.launch(ctx.platform, TRAINING, info.id)
    return info


_job_resource = control.job_resource(TRAINING)


@operation("training:DescribeTrainingJob", _job_resource, mutating=False)
def get_training_job(ctx: RequestContext, job_id: str) -> TrainingJobInfo:
    info = control.describe(ctx.platform, TRAINING, job_id)
    assert isinstance(info, TrainingJobInfo)
    return info


@operation("training:ListTrainingJobs", lambda: resource("training-job"), mutating=False)
def list_training_jobs(ctx: RequestContext, limit: int = 50) -> list[TrainingJobInfo]:
    return [
        info
        for info in control.list_jobs(ctx.platform, TRAINING, limit)
        if isinstance(info, TrainingJobInfo)
    ]


@operation("training:DescribeTrainingJob", _job_resource, mutating=False)
def read_training_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log from byte ``offset``, with its status, for streaming by polling."""
    return control.read_log(ctx.platform, TRAINING, job_id, offset)


@operation("training:CancelTrainingJob", _job_resource, mutating=True)
def cancel_training_job(ctx: RequestContext, job_id: str) -> TrainingJobInfo:
    """End the job's whole process tree and mark it cancelled (its run killed)."""
    control.refuse_if_ended(ctx.platform, TRAINING, job_id)
    control.stop(ctx.platform, job_id, "cancelled", f"cancelled by {ctx.principal}")
    info = control.describe(ctx.platform, TRAINING, job_id)
    assert isinstance(info, TrainingJobInfo)
    return info
