"""What the job service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

JobStatus = Literal["pending", "running", "succeeded", "failed"]
FINAL_STATUSES = ("succeeded", "failed")


class TrainingJobInfo(BaseModel):
    id: str
    name: str
    status: JobStatus
    progress: float
    message: str
    dataset: str
    run_id: str | None
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    ended_at: datetime | None

    @property
    def resource(self) -> str:
        return f"sy:training-job/{self.id}"

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES


class LogChunk(BaseModel):
    """A slice of a job's log from ``offset``; poll again from ``next_offset``."""

    text: str
    next_offset: int
    status: JobStatus
    progress: float
    message: str
