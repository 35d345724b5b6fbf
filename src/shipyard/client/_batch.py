"""Batch transform in the SDK: submit or resume a job, follow it, get the output version."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

from shipyard.batch import BatchJobInfo
from shipyard.client._follow import follow_log
from shipyard.client._resources import _Group
from shipyard.errors import JobFailed
from shipyard.jobs import LogChunk


class BatchTransforms(_Group):
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
            )
        )

    def resume(self, job_id: str) -> BatchJobInfo:
        """Start a failed or crashed job again; its finished chunks are reused."""
        return BatchJobInfo.model_validate(self._t.call("batch.resume_job", job_id=job_id))

    def get(self, job_id: str) -> BatchJobInfo:
        return BatchJobInfo.model_validate(self._t.call("batch.get_job", job_id=job_id))

    def list(self, limit: int = 50) -> builtins.list[BatchJobInfo]:
        return [
            BatchJobInfo.model_validate(j) for j in self._t.call("batch.list_jobs", limit=limit)
        ]

    def logs(self, job_id: str, offset: int = 0) -> LogChunk:
        return LogChunk.model_validate(self._t.call("batch.read_log", job_id=job_id, offset=offset))

    def wait(
        self,
        job_id: str,
        *,
        on_log: Callable[[str], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        poll_seconds: float = 0.2,
        timeout: float | None = None,
    ) -> BatchJobInfo:
        """Follow a job to its end; raise JobFailed if it failed."""
        follow_log(
            lambda offset: self.logs(job_id, offset),
            f"batch job {job_id}",
            on_log=on_log,
            on_progress=on_progress,
            poll_seconds=poll_seconds,
            timeout=timeout,
        )
        job = self.get(job_id)
        if job.status == "failed":
            raise JobFailed(f"batch job {job_id} failed: {job.message}")
        return job

    def transform(self, model: str, input: str, output: str, **options: Any) -> BatchJobInfo:
        """Submit a job and wait for it; ``options`` go to submit, or to wait (timeout...)."""
        waits = {k: options.pop(k) for k in ("on_log", "on_progress", "timeout") if k in options}
        return self.wait(self.submit(model, input, output, **options).id, **waits)
