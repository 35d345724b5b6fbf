"""Starting runs without a request (a schedule, a new dataset version, an alarm) and
reading lineage back: which pipeline run produced a resource."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shipyard.pipelines._service import start_triggered_run
from shipyard.platform import Platform
from shipyard.schemas.pipelines import PipelineRunInfo
from shipyard.security import context_for
from shipyard.store.metadata import pipeline_tables as pt


def start_run(
    platform: Platform, principal: str, pipeline: str, parameters: dict[str, Any], trigger: str
) -> PipelineRunInfo:
    """Start a run as ``principal`` (``trigger``: "manual", "schedule", "dataset:<name>@<v>",
    "alarm:<name>"). It is authorized as a request from that principal would be
    (pipelines:StartPipelineRun and every access of the steps, with its current policies):
    AccessDenied, audited, if it has lost any."""
    ctx = context_for(platform, principal)
    return start_triggered_run(ctx, pipeline, parameters, trigger)


def produced_by(platform: Platform, kind: str, ref: str) -> list[tuple[str, str, str]]:
    """``(pipeline, run id, step)`` of every pipeline run that produced ``ref`` (kind
    dataset-version, run, model-version, deployment or job)."""
    with platform.db.session() as session:
        rows = session.execute(
            sa.select(pt.PipelineRun.pipeline, pt.PipelineOutput.run_id, pt.PipelineOutput.step)
            .join(pt.PipelineRun, pt.PipelineRun.id == pt.PipelineOutput.run_id)
            .where(pt.PipelineOutput.kind == kind, pt.PipelineOutput.ref == ref)
            .order_by(pt.PipelineOutput.id)
        ).all()
    return [(str(a), str(b), str(c)) for a, b, c in rows]
