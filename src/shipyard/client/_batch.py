"""Batch transform in the SDK: submit or resume a job, follow it, get the output version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.client._jobs import JobGroup
from shipyard.schemas.batch import BatchJobInfo
from shipyard.schemas.jobs import JobLimits


class BatchTransforms(JobGroup[BatchJobInfo]):
    prefix, noun, info_type = "batch", "batch job", BatchJobInfo

    def submit(
        self,
        model: str,
        input: str,
        output: str,
        *,
        keep_columns: Sequence[str] | None = None,
        output_columns: Sequence[str] | None = None,
        chunk_rows: int = 100_000,
        workers: int | None = None,
        limits: JobLimits | dict[str, Any] | None = None,
    ) -> BatchJobInfo:
        """Start scoring dataset version ``input`` with ``model`` into dataset ``output``."""
        return BatchJobInfo.model_validate(
            self._t.call(
                "batch.create_job",
                model=model,
                input=input,
                output=output,
                keep_columns=None if keep_columns is None else list(keep_columns),
                output_columns=None if output_columns is None else list(output_columns),
                chunk_rows=chunk_rows,
                workers=workers,
                limits=None if limits is None else JobLimits.model_validate(limits),
            )
        )

    def resume(self, job_id: str) -> BatchJobInfo:
        """Start a failed or crashed job again; its finished chunks are reused."""
        return BatchJobInfo.model_validate(self._t.call("batch.resume_job", job_id=job_id))

    def transform(self, model: str, input: str, output: str, **options: Any) -> BatchJobInfo:
        """Submit a job and wait for it; ``options`` go to submit, or to wait (timeout...)."""
        waits = {k: options.pop(k) for k in ("on_log", "on_progress", "timeout") if k in options}
        return self.wait(self.submit(model, input, output, **options).id, **waits)
