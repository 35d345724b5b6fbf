"""The training worker process: ``python -m shipyard.jobs._worker JOB_ID`` with settings on stdin.

It trains, then records everything the job produced (run, params, metrics,
model artifact, the validation rows it was scored on, lineage) and the job's
outcome. Whatever happens, the job ends succeeded or failed; its stdout is the
job's log.
"""

from __future__ import annotations

import sys
import time
import traceback

import orjson

from shipyard.clock import utcnow
from shipyard.config import Settings
from shipyard.datasets import load_version_table
from shipyard.edge import VALIDATION_ARTIFACT
from shipyard.errors import ShipyardError
from shipyard.platform import Platform
from shipyard.registry import MODEL_ARTIFACT, MODEL_META
from shipyard.store.metadata import tables as t
from shipyard.tracking import MetricPoint, start_run, store_artifact, write_batch
from shipyard.training import TrainingSpec, fit, validation_parquet


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def _set(platform: Platform, job_id: str, **fields: object) -> None:
    with platform.db.session() as session:
        row = session.get(t.TrainingJob, job_id)
        if row is not None:
            for key, value in fields.items():
                setattr(row, key, value)


def run_job(platform: Platform, job_id: str) -> None:
    """Train one job to completion and record the outcome."""
    with platform.db.session() as session:
        job = session.get(t.TrainingJob, job_id)
        if job is None:
            raise SystemExit(f"training job {job_id} does not exist")
        spec = TrainingSpec.model_validate(job.spec)
        version = session.get(t.DatasetVersion, job.dataset_version_id)
        assert version is not None
        principal = job.created_by
        job.status = "running"
    _log(f"job {job_id}: {spec.estimator} on {spec.dataset}, target {spec.target!r}")
    table = load_version_table(platform, version)
    _log(f"loaded {table.num_rows} rows x {table.num_columns} columns (digest verified)")

    def progress(fraction: float, stage: str) -> None:
        _log(f"[{fraction:4.0%}] {stage}")
        _set(platform, job_id, progress=round(min(max(fraction, 0.0), 0.99), 3), message=stage)

    result = fit(spec, table, on_progress=progress, log=_log)
    validation = validation_parquet(result.validation)
    _log(
        f"validation table: {result.validation.num_rows} {result.validation_split} rows "
        f"({len(validation)} bytes of Parquet)"
    )
    with platform.db.session() as session:
        run = start_run(
            session,
            experiment=spec.experiment,
            principal=principal,
            name=spec.name or job_id[:8],
            params={k: str(v) for k, v in result.params.items()},
            tags={"shipyard.job": job_id, "estimator": spec.estimator, "task": spec.task},
        )
        session.add(t.RunInput(run_id=run.id, dataset_version_id=version.id))
        write_batch(
            session,
            run.id,
            [MetricPoint(key=k, value=float(v)) for k, v in result.metrics.items()],
            {},
            {},
        )
        artifact = store_artifact(platform, session, run.id, MODEL_ARTIFACT, result.model_bytes)
        held_out = store_artifact(platform, session, run.id, VALIDATION_ARTIFACT, validation)
        meta = {
            "flavor": result.flavor,
            "digest": artifact.digest,
            "signature": result.signature.model_dump(mode="json"),
            "validation": {
                "path": VALIDATION_ARTIFACT,
                "digest": held_out.digest,
                "rows": result.validation.num_rows,
                "split": result.validation_split,
            },
        }
        store_artifact(platform, session, run.id, MODEL_META, orjson.dumps(meta))
        run.status = "finished"
        run.end_time = utcnow()
        run_id = run.id
    metrics = ", ".join(f"{k}={v:.4f}" for k, v in sorted(result.metrics.items()))
    _log(f"run {run_id} finished: {metrics}")
    _set(
        platform,
        job_id,
        status="succeeded",
        progress=1.0,
        message=metrics,
        run_id=run_id,
        ended_at=utcnow(),
    )


def main(argv: list[str]) -> int:
    job_id = argv[1]
    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    platform = Platform.open(settings, migrate=False)
    try:
        run_job(platform, job_id)
    except ShipyardError as error:
        _log(f"failed: {error}")
        _set(platform, job_id, status="failed", message=str(error), ended_at=utcnow())
        return 1
    except Exception as error:
        traceback.print_exc()
        _set(
            platform,
            job_id,
            status="failed",
            message=f"{type(error).__name__}: {error}",
            ended_at=utcnow(),
        )
        return 1
    finally:
        platform.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
