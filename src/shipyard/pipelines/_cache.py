"""Step reuse: a step whose kind, resolved configuration and code are unchanged is not run
again; its earlier outputs are taken.

The key is the SHA-256 of a canonical JSON document holding the step's kind, its
configuration with every parameter and every reference resolved (so the dataset
versions, run ids and model versions it reads are in it, never "latest"), and, for steps
that run the pipeline's own code (train, code, tune), the digest of every file sent with
the pipeline. Reuse looks only at succeeded steps of the same pipeline.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from shipyard.store.metadata import pipeline_tables as pt
from shipyard.transforms._spec import canonical_digest


def cache_key(kind: str, config: dict[str, Any], files: dict[str, str] | None) -> str:
    document: dict[str, Any] = {"kind": kind, "config": config}
    if files is not None:
        document["code"] = dict(sorted(files.items()))
    return canonical_digest(document)


def reusable(session: Session, pipeline: str, key: str) -> pt.PipelineStep | None:
    """The newest succeeded step of ``pipeline`` with this key (its own outputs, not
    reused ones, or reused ones: they are the same)."""
    return session.scalar(
        sa.select(pt.PipelineStep)
        .join(pt.PipelineRun, pt.PipelineRun.id == pt.PipelineStep.run_id)
        .where(
            pt.PipelineRun.pipeline == pipeline,
            pt.PipelineStep.cache_key == key,
            pt.PipelineStep.status.in_(("succeeded", "cached")),
        )
        .order_by(pt.PipelineStep.ended_at.desc())
        .limit(1)
    )
