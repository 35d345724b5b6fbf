"""What the pipeline operations return: a pipeline, a run with its steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipyard.schemas._base import WireModel
from shipyard.schemas.jobs import JobInfo


class StepNode(WireModel):
    """A step of a pipeline's graph and the steps it waits for."""

    name: str
    kind: str
    depends_on: list[str]


class PipelineInfo(WireModel):
    name: str
    version: int
    description: str
    parameters: dict[str, Any]
    schedule: str | None
    triggers: list[dict[str, Any]]
    steps: list[StepNode]
    files: list[str]
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def resource(self) -> str:
        return f"sy:pipeline/{self.name}"


class StepInfo(WireModel):
    """A step of a run: pending, running, succeeded, cached (reused), skipped, failed."""

    name: str
    kind: str
    depends_on: list[str]
    status: str
    attempts: int
    message: str
    outputs: dict[str, Any]
    cache_key: str | None
    reused_from: str | None
    child_job: str | None
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class PipelineRunInfo(JobInfo):
    """A run of a pipeline (a job of kind ``pipeline``) and each of its steps."""

    pipeline: str
    pipeline_version: int
    parameters: dict[str, Any]
    trigger: str
    steps: list[StepInfo]

    @property
    def resource(self) -> str:
        return f"sy:pipeline-run/{self.pipeline}/{self.id}"

    def step(self, name: str) -> StepInfo:
        return next(s for s in self.steps if s.name == name)
