"""AutoML jobs: search model families on a dataset version under a wall-time budget.

The automl kind of the one job system (``_control``): the search runs in the job
process (``_automl_worker``), under the job's limits, cancel and resource record. A
job reads its dataset version, creates runs in its experiment, and registers its
winner only when asked (``register``), which needs ``registry:RegisterModel`` on that
name too; all of it is checked when the job is created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shipyard.automl import Leaderboard, parse_budget
from shipyard.contracts import refuse_failed_validation
from shipyard.datasets import dataset_ref_resource, find_version
from shipyard.errors import Conflict, InvalidInput
from shipyard.jobs import _control as control
from shipyard.jobs._kinds import JobKind, register_kind
from shipyard.names import check_name, parse_reference, resource
from shipyard.schemas.jobs import AutoMLJobInfo, JobLimits, LogChunk
from shipyard.security import Access, RequestContext, operation
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t

CLASSIFICATION_MAX_DISTINCT = 20
"""An integer target with at most this many distinct values is taken as class labels."""
MAX_FOLDS = 10


def _describe(session: Session, row: j.Job) -> AutoMLJobInfo:
    automl = session.get(j.AutoMLJob, row.id)
    assert automl is not None
    spec, board = automl.spec, automl.leaderboard or {}
    winner = next((e for e in board.get("entries", []) if e.get("winner")), None)
    return AutoMLJobInfo(
        **control.common_fields(row),
        dataset=spec["dataset"],
        target=spec["target"],
        task=spec["task"],
        metric=board.get("metric") or spec.get("metric") or "",
        budget_seconds=spec["budget_seconds"],
        experiment=spec["experiment"],
        register_to=spec.get("register"),
        registered=board.get("registered"),
        winner=None if winner is None else winner["family"],
        score=None if winner is None else winner["score"],
    )


AUTOML = register_kind(
    JobKind(
        name="automl",
        resource_kind="automl-job",
        noun="automl job",
        worker="shipyard.jobs._automl_worker:run",
        describe=_describe,
    )
)


def _automl_uses(
    session: Session, dataset: str, experiment: str, register_to: str | None
) -> list[Access]:
    """Reading the dataset version, runs in the experiment, and the model name it registers to."""
    found = [
        Access("datasets:ReadData", dataset_ref_resource(session, dataset, field="dataset")),
        Access("tracking:CreateRun", resource("experiment", experiment)),
    ]
    if register_to is not None:
        check_name(register_to, field="register_to")
        found.append(Access("registry:RegisterModel", resource("model", register_to)))
    return found


def _infer_task(version: t.DatasetVersion, target: str, kind: str) -> str:
    if kind in ("string", "boolean"):
        return "classification"
    if kind == "integer":
        profile = {c["name"]: c for c in version.profile.get("columns", [])}
        distinct = profile.get(target, {}).get("distinct")
        if isinstance(distinct, int | float) and distinct <= CLASSIFICATION_MAX_DISTINCT:
            return "classification"
    if kind in ("integer", "float"):
        return "regression"
    raise InvalidInput(f"column {target!r} of type {kind} cannot be a target", field="target")


def _check_target(version: t.DatasetVersion, target: str, task: str | None) -> str:
    """The task (given or inferred from the target's type); refuses unknown or null targets."""
    types = {c["name"]: c["type"] for c in version.schema}
    if target not in types:
        raise InvalidInput(
            f"column {target!r} is not in dataset columns {sorted(types)}", field="target"
        )
    if len(types) < 2:
        raise InvalidInput("the dataset has no feature columns besides the target", field="target")
    profile = {c["name"]: c for c in version.profile.get("columns", [])}
    nulls = profile.get(target, {}).get("nulls", 0)
    if nulls:
        raise InvalidInput(f"target column {target!r} has {nulls} null values", field="target")
    if task is None:
        return _infer_task(version, target, types[target])
    if task not in ("classification", "regression"):
        raise InvalidInput("must be classification or regression", field="task")
    if task == "regression" and types[target] not in ("integer", "float"):
        raise InvalidInput(
            f"regression needs a numeric target; column {target!r} is {types[target]}",
            field="target",
        )
    return task


def _check_metric(task: str, metric: str | None) -> None:
    from shipyard.training import METRICS  # scikit-learn loads only when a job is created

    if metric is not None and metric not in METRICS[task]:  # type: ignore[index]
        raise InvalidInput(
            f"unknown {task} metric {metric!r}; choose from {sorted(METRICS[task])}",  # type: ignore[index]
            field="metric",
        )


@operation(
    "automl:CreateAutoMLJob",
    lambda experiment: resource("automl-job", experiment),
    uses=_automl_uses,
    mutating=True,
)
def create_automl_job(
    ctx: RequestContext,
    dataset: str,
    target: str,
    budget: str = "10m",
    metric: str | None = None,
    task: str | None = None,
    register_to: str | None = None,
    experiment: str = "default",
    ensemble: bool = True,
    folds: int = 5,
    seed: int = 0,
    force: bool = False,
    limits: JobLimits | None = None,
) -> AutoMLJobInfo:
    """Search model families on dataset version ``dataset`` to predict ``target`` within
    ``budget`` (``90s``, ``10m``, ``1h``; at least 10 s) of wall time, submit to success.

    ``metric`` defaults to ROC AUC (two classes), log loss (more) or R² (regression);
    ``task`` is inferred from the target's type unless given. With ``register_to`` the
    winner becomes the next version of that model. ``limits``: cpus, memory_mb (the
    budget sets max_runtime).
    """
    seconds = parse_budget(budget)
    check_name(experiment, field="experiment")
    if not 2 <= folds <= MAX_FOLDS:
        raise InvalidInput(f"must be between 2 and {MAX_FOLDS}", field="folds")
    if not 0 <= seed <= 2**32 - 1:
        raise InvalidInput("must be between 0 and 4294967295", field="seed")
    ref = parse_reference(dataset, field="dataset")
    if ref.alias is not None:
        raise InvalidInput("datasets are named by version (name@3), not alias", field="dataset")
    given = control.parse_limits(limits)
    if given.max_runtime is not None:
        raise InvalidInput(
            "the budget sets an automl job's max_runtime", field="limits.max_runtime"
        )
    with ctx.platform.db.session() as session:
        version = find_version(session, ref.name, ref.version)
        chosen = _check_target(version, target, task)
        _check_metric(chosen, metric)
        if not force:
            refuse_failed_validation(session, version.id, f"{ref.name}@{version.version}")
        stored: dict[str, Any] = {
            "dataset": f"{ref.name}@{version.version}",
            "target": target,
            "task": chosen,
            "metric": metric,
            "budget_seconds": seconds,
            "experiment": experiment,
            "register": register_to,
            "ensemble": ensemble,
            "folds": folds,
            "seed": seed,
        }
        # the worker keeps to the budget; the watchdog is the backstop past its 5% margin
        runtime = given.model_copy(update={"max_runtime": seconds * 1.1 + 5})
        row = control.new_job(
            session,
            AUTOML,
            name=f"automl-{ref.name}",
            scope=experiment,
            principal=ctx.principal,
            limits=runtime,
        )
        row.name = f"automl-{ref.name}-{row.id[:6]}"[:200]
        session.add(j.AutoMLJob(id=row.id, spec=stored, dataset_version_id=version.id))
        session.flush()
        info = _describe(session, row)
    control.launch(ctx.platform, AUTOML, info.id)
    return info


_job_resource = control.job_resource(AUTOML)


def _info(ctx: RequestContext, job_id: str) -> AutoMLJobInfo:
    info = control.describe(ctx.platform, AUTOML, job_id)
    assert isinstance(info, AutoMLJobInfo)
    return info


@operation("automl:DescribeAutoMLJob", _job_resource, mutating=False)
def get_automl_job(ctx: RequestContext, job_id: str) -> AutoMLJobInfo:
    return _info(ctx, job_id)


@operation("automl:ListAutoMLJobs", lambda: resource("automl-job"), mutating=False)
def list_automl_jobs(ctx: RequestContext, limit: int = 50) -> list[AutoMLJobInfo]:
    return [
        info
        for info in control.list_jobs(ctx.platform, AUTOML, limit)
        if isinstance(info, AutoMLJobInfo)
    ]


@operation("automl:DescribeAutoMLJob", _job_resource, mutating=False)
def read_automl_log(ctx: RequestContext, job_id: str, offset: int = 0) -> LogChunk:
    """The job's log from byte ``offset``, with its status, for following by polling."""
    return control.read_log(ctx.platform, AUTOML, job_id, offset)


@operation("automl:DescribeAutoMLJob", _job_resource, mutating=False)
def get_automl_leaderboard(ctx: RequestContext, job_id: str) -> Leaderboard:
    """Every family's best (and the ensemble) ranked, once the job has succeeded."""
    with ctx.platform.db.session() as session:
        row = control.job_row(session, AUTOML, job_id)
        automl = session.get(j.AutoMLJob, job_id)
        if automl is None or automl.leaderboard is None:
            raise Conflict(
                f"automl job {job_id} is {row.status}; its leaderboard is kept when it succeeds",
                field="job_id",
            )
        return Leaderboard.model_validate(automl.leaderboard)


@operation("automl:CancelAutoMLJob", _job_resource, mutating=True)
def cancel_automl_job(ctx: RequestContext, job_id: str) -> AutoMLJobInfo:
    """End the job's whole process tree and mark it cancelled; it registers nothing."""
    control.refuse_if_ended(ctx.platform, AUTOML, job_id)
    control.stop(ctx.platform, job_id, "cancelled", f"cancelled by {ctx.principal}")
    return _info(ctx, job_id)
