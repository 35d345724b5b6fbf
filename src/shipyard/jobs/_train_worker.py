"""The training kind's work in the job process: a spec's estimator, or the user's own code.

The run is started first (so it gets the job's system metrics and is ended as killed if
the job is stopped); everything the job produced (metrics, model artifact, the validation
rows it was scored on) is recorded with the job's success in one transaction, so a job
stopped meanwhile registers nothing. On a Ray executor the fit itself is a task there
(``_train_task``); the job process keeps the run and the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.clock import utcnow
from shipyard.datasets import load_version_table
from shipyard.flavors import ModelSignature, SavedModel, ValidationRows
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._init_model import load_init_model, record_model_input
from shipyard.jobs._remote import RemoteWork
from shipyard.registry import store_saved_model
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, start_run, write_batch

if TYPE_CHECKING:
    from shipyard.training import TrainingSpec
    from shipyard.training._warm_start import ParentModel

FIT_TASK = "shipyard.jobs._train_task:fit_task"


def run(job: JobAttempt) -> None:
    """Train one job to completion and record the outcome."""
    with job.platform.db.session() as session:
        row = session.get(t.TrainingJob, job.id)
        assert row is not None
        spec_document = dict(row.spec)
        version_id = row.dataset_version_id
    if "entrypoint" in spec_document:
        from shipyard.jobs._code_worker import run_code

        run_code(job, spec_document)
        return
    _run_spec(job, spec_document, version_id)


@dataclass(frozen=True)
class _Fitted:
    """What a fit produced, wherever it ran: the model, how it scored, its validation rows."""

    flavor: str
    model_bytes: bytes
    signature: ModelSignature
    metrics: dict[str, float]
    params: dict[str, str]
    validation: bytes
    validation_rows: int
    validation_split: str


def _fit_here(
    job: JobAttempt, spec: TrainingSpec, version: t.DatasetVersion, parent: ParentModel | None
) -> _Fitted:
    from shipyard.training import fit, validation_parquet

    table = load_version_table(job.platform, version)
    job.log(f"loaded {table.num_rows} rows x {table.num_columns} columns (digest verified)")
    result = fit(spec, table, on_progress=job.progress, log=job.log, parent=parent)
    return _Fitted(
        result.flavor,
        result.model_bytes,
        result.signature,
        {k: float(v) for k, v in result.metrics.items()},
        {k: str(v) for k, v in result.params.items()},
        validation_parquet(result.validation),
        result.validation.num_rows,
        result.validation_split,
    )


def _fit_remotely(
    job: JobAttempt, remote: RemoteWork, document: dict[str, object], version_id: int
) -> _Fitted:
    """The fit as a task on the job's executor; model and validation table come back as
    blob digests (read back here, checked against them)."""
    job.log(f"fitting on {remote.name}")
    payload = {"job_id": job.id, "spec": document, "version_id": version_id}
    found = remote.run(FIT_TASK, payload)
    for line in found["log"]:
        job.log(f"(task) {line}")
    blobs = job.platform.blobs
    return _Fitted(
        found["flavor"],
        blobs.get_bytes(found["model"]),
        ModelSignature.model_validate(found["signature"]),
        found["metrics"],
        found["params"],
        blobs.get_bytes(found["validation"]),
        found["validation_rows"],
        found["validation_split"],
    )


def _run_spec(job: JobAttempt, document: dict[str, object], version_id: int) -> None:
    from shipyard.training import TrainingSpec

    platform = job.platform
    spec = TrainingSpec.model_validate(document)
    executor = job.remote.name if job.remote is not None else "local"
    parent, parent_id = None, None
    if spec.init_model is not None:
        parent, parent_id = load_init_model(platform, spec.init_model)
    with platform.db.session() as session:
        version = session.get(t.DatasetVersion, version_id)
        assert version is not None
        run = start_run(
            session,
            experiment=spec.experiment,
            principal=job.principal,
            name=spec.name or job.id[:8],
            tags={
                "shipyard.job": job.id,
                "shipyard.executor": executor,
                "estimator": spec.estimator,
                "task": spec.task,
            },
        )
        session.add(t.RunInput(run_id=run.id, dataset_version_id=version.id))
        if parent_id is not None:
            record_model_input(session, run.id, parent_id)
        job.attach_run(session, run.id)
        run_id = run.id
    job.log(f"job {job.id}: {spec.estimator} on {spec.dataset}, target {spec.target!r}")
    if job.remote is None:
        result = _fit_here(job, spec, version, parent)
    else:
        result = _fit_remotely(job, job.remote, document, version_id)
    job.log(
        f"validation table: {result.validation_rows} {result.validation_split} rows "
        f"({len(result.validation)} bytes of Parquet)"
    )
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    with platform.db.session() as session:
        write_batch(
            session,
            run_id,
            [MetricPoint(key=k, value=v) for k, v in result.metrics.items()],
            {k: str(v) for k, v in _run_params(spec, result.params).items()},
            {},
        )
        saved = SavedModel(
            result.flavor,
            result.model_bytes,
            result.signature,
            validation=ValidationRows(
                result.validation, result.validation_rows, result.validation_split
            ),
        )
        store_saved_model(platform, session, run_id, saved)
        finished = session.get(t.Run, run_id)
        assert finished is not None
        finished.status, finished.end_time = "finished", utcnow()
        job.succeed(session, metrics)
    job.log(f"run {run_id} finished: {metrics}")


def _run_params(spec: TrainingSpec, params: Mapping[str, object]) -> dict[str, object]:
    """The estimator's parameters, and the version training continued from."""
    return {**params, "init_model": spec.init_model} if spec.init_model else dict(params)
