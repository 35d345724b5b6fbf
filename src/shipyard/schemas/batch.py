"""What the batch transform service returns."""

from __future__ import annotations

from typing import Any

from shipyard.schemas.jobs import JobInfo


class BatchJobInfo(JobInfo):
    """A batch transform job: ``model`` scores dataset version ``input`` into ``output``.

    ``output_version`` is the dataset version it produced (``name@version``) once it
    succeeded; ``attempts`` counts runs, a resumed job reusing finished chunks.
    """

    model: str
    input: str
    output: str
    output_version: str | None
    chunks_total: int
    chunks_done: int
    spec: dict[str, Any]

    @property
    def resource(self) -> str:
        return f"sy:batch-job/{self.id}"
