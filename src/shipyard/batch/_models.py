"""What the batch transform service returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

BatchStatus = Literal["pending", "running", "succeeded", "failed"]
FINAL_STATUSES = ("succeeded", "failed")


class BatchJobInfo(BaseModel):
    """A batch transform job: ``model`` scores dataset version ``input`` into ``output``.

    ``output_version`` is the dataset version it produced (``name@version``) once it
    succeeded; ``attempts`` counts runs, a resumed job reusing finished chunks.
    """

    id: str
    model: str
    input: str
    output: str
    output_version: str | None
    status: BatchStatus
    progress: float
    message: str
    chunks_total: int
    chunks_done: int
    attempts: int
    spec: dict[str, Any]
    created_by: str
    created_at: datetime
    ended_at: datetime | None

    @property
    def resource(self) -> str:
        return f"sy:batch-job/{self.id}"

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES
