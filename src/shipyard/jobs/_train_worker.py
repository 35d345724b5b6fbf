"""The training kind's work in the job process: a spec's estimator, or the user's own code.

The run is started first (so it gets the job's system metrics and is ended as killed if
the job is stopped); everything the job produced (metrics, model artifact, the validation
rows it was scored on) is recorded with the job's success in one transaction, so a job
stopped meanwhile registers nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shipyard.clock import utcnow
from shipyard.datasets import load_version_table
from shipyard.flavors import SavedModel, ValidationRows
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._init_model import load_init_model, record_model_input
from shipyard.registry import store_saved_model
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, start_run, write_batch

if TYPE_CHECKING:
    from shipyard.training import TrainingSpec


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


def _run_spec(job: JobAttempt, document: dict[str, object], version_id: int) -> None:
    from shipyard.training import TrainingSpec, fit, validation_parquet

    platform = job.platform
    spec = TrainingSpec.model_validate(document)
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
            tags={"shipyard.job": job.id, "estimator": spec.estimator, "task": spec.task},
        )
        session.add(t.RunInput(run_id=run.id, dataset_version_id=version.id))
        if parent_id is not None:
            record_model_input(session, run.id, parent_id)
        job.attach_run(session, run.id)
        run_id = run.id
    job.log(f"job {job.id}: {spec.estimator} on {spec.dataset}, target {spec.target!r}")
    table = load_version_table(platform, version)
    job.log(f"loaded {table.num_rows} rows x {table.num_columns} columns (digest verified)")
    result = fit(spec, table, on_progress=job.progress, log=job.log, parent=parent)
    validation = validation_parquet(result.validation)
    job.log(
        f"validation table: {result.validation.num_rows} {result.validation_split} rows "
        f"({len(validation)} bytes of Parquet)"
    )
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    with platform.db.session() as session:
        write_batch(
            session,
            run_id,
            [MetricPoint(key=k, value=float(v)) for k, v in result.metrics.items()],
            {k: str(v) for k, v in _run_params(spec, result.params).items()},
            {},
        )
        saved = SavedModel(
            result.flavor,
            result.model_bytes,
            result.signature,
            validation=ValidationRows(
                validation, result.validation.num_rows, result.validation_split
            ),
        )
        store_saved_model(platform, session, run_id, saved)
        finished = session.get(t.Run, run_id)
        assert finished is not None
        finished.status, finished.end_time = "finished", utcnow()
        job.succeed(session, metrics)
    job.log(f"run {run_id} finished: {metrics}")


def _run_params(spec: TrainingSpec, params: dict[str, object]) -> dict[str, object]:
    """The estimator's parameters, and the version training continued from."""
    return {**params, "init_model": spec.init_model} if spec.init_model else params
