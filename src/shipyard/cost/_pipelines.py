"""Which pipeline started a job, through ``pipeline_run_steps(run_id, pipeline, step, job_id)``.

The pipelines package owns that table; cost reads it only when it exists, so cost works on
an installation without pipelines (and says "no pipeline runs").
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

TABLE = "pipeline_run_steps"


def pipelines_of_jobs(session: Session, job_ids: list[str]) -> dict[str, str] | None:
    """Job id -> the pipeline whose run started it; None when there is no such table."""
    if not sa.inspect(session.connection()).has_table(TABLE):
        return None
    steps = sa.table(TABLE, sa.column("pipeline"), sa.column("job_id"))
    found: dict[str, str] = {}
    for start in range(0, len(job_ids), 500):
        chunk = job_ids[start : start + 500]
        rows = session.execute(
            sa.select(steps.c.job_id, steps.c.pipeline).where(steps.c.job_id.in_(chunk))
        )
        found.update({str(job): str(pipeline) for job, pipeline in rows})
    return found
