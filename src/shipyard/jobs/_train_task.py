"""A training fit as an executor task: what the job process hands to Ray.

The task loads the dataset version and fits the spec in a Ray worker, puts the model and
its validation table in the blob store (the job's shared store) and returns their
digests with the metrics: JSON only. Its progress goes straight into the job's row; its
log lines come back with the result, and the job process writes them to the job's log.
The job process records everything in its success transaction, as for a local fit.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shipyard.datasets import load_version_table
from shipyard.executors import task_platform
from shipyard.jobs._init_model import load_init_model
from shipyard.store.metadata import job_tables as j
from shipyard.store.metadata import tables as t
from shipyard.training import TrainingSpec, fit, validation_parquet


def fit_task(payload: dict[str, Any]) -> dict[str, Any]:
    """Fit ``payload["spec"]`` on dataset version ``payload["version_id"]`` for job
    ``payload["job_id"]``."""
    platform = task_platform()
    job_id = payload["job_id"]
    spec = TrainingSpec.model_validate(payload["spec"])
    lines: list[str] = []

    def progress(fraction: float, stage: str) -> None:
        lines.append(f"[{fraction:4.0%}] {stage}")
        with platform.db.session() as session:
            session.execute(
                sa.update(j.Job)
                .where(j.Job.id == job_id, j.Job.status == "running")
                .values(progress=round(min(max(fraction, 0.0), 0.99), 3), message=stage)
                .execution_options(synchronize_session=False)
            )

    with platform.db.session() as session:
        version = session.get(t.DatasetVersion, payload["version_id"])
        assert version is not None
        table = load_version_table(platform, version)
    lines.append(f"loaded {table.num_rows} rows x {table.num_columns} columns (digest verified)")
    parent = None
    if spec.init_model is not None:  # the job resolved it to name@version at creation
        parent, _ = load_init_model(platform, spec.init_model)
    result = fit(spec, table, on_progress=progress, log=lines.append, parent=parent)
    validation = validation_parquet(result.validation)
    return {
        "flavor": result.flavor,
        "model": platform.blobs.put_bytes(result.model_bytes),
        "signature": result.signature.model_dump(mode="json"),
        "metrics": {k: float(v) for k, v in result.metrics.items()},
        "params": {k: str(v) for k, v in result.params.items()},
        "validation": platform.blobs.put_bytes(validation),
        "validation_rows": result.validation.num_rows,
        "validation_split": result.validation_split,
        "log": lines,
    }
