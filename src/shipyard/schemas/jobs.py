"""What the job system returns: the fields every job kind shares, its limits and resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shipyard.schemas._base import WireModel

JobStatus = Literal["pending", "running", "succeeded", "failed", "cancelled", "timed_out"]
FINAL_STATUSES: tuple[str, ...] = ("succeeded", "failed", "cancelled", "timed_out")
ACTIVE_STATUSES: tuple[str, ...] = ("pending", "running")
MAX_RUNTIME_SECONDS = 30 * 24 * 3600
MAX_RETRIES = 10


class JobLimits(WireModel):
    """What a job may use: wall time, cores, memory, and retries of retryable failures."""

    model_config = {"extra": "forbid"}

    max_runtime: float | None = Field(default=None, gt=0, le=MAX_RUNTIME_SECONDS)
    cpus: int | None = Field(default=None, ge=1, le=1024)
    memory_mb: int | None = Field(default=None, ge=64, le=1024 * 1024)
    max_retries: int = Field(default=0, ge=0, le=MAX_RETRIES)


class ResourceRecord(WireModel):
    """What a job used: wall time, CPU seconds and peak memory of its process tree.

    On a Ray executor (``executor`` names it) ``cpu_seconds`` adds what its ``tasks`` used
    and ``peak_memory_mb`` is the larger of the job process tree's and any one task's.
    """

    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    executor: str = "local"
    tasks: int = 0


class JobInfo(WireModel):
    """The fields of a job of any kind; each kind's info adds its own."""

    id: str
    kind: str
    name: str
    status: JobStatus
    progress: float
    message: str
    attempts: int
    limits: JobLimits
    resources: ResourceRecord | None
    run_id: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def resource(self) -> str:
        return f"sy:{self.kind.replace('_', '-')}-job/{self.id}"

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


class TrainingJobInfo(JobInfo):
    """A training job: a spec (estimator or own code) on a dataset version."""

    dataset: str
    spec: dict[str, Any]

    @property
    def resource(self) -> str:
        return f"sy:training-job/{self.id}"


class AutoMLJobInfo(JobInfo):
    """An AutoML job: what it searches, under which budget, and (once done) what it picked."""

    dataset: str
    target: str
    task: str
    metric: str
    budget_seconds: float
    experiment: str
    register_to: str | None
    registered: str | None = None
    winner: str | None = None
    score: float | None = None

    @property
    def resource(self) -> str:
        return f"sy:automl-job/{self.id}"


class LogChunk(WireModel):
    """A slice of a job's log from ``offset``; poll again from ``next_offset``."""

    text: str
    next_offset: int
    status: JobStatus
    progress: float
    message: str


class TuningJobInfo(JobInfo):
    """A tuning job: a search over a training spec's (or own code's) parameters."""

    dataset: str
    spec: dict[str, Any]

    @property
    def resource(self) -> str:
        return f"sy:tuning-job/{self.id}"
