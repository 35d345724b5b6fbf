"""The SDK's job group: ``get``, ``list``, ``logs``, ``wait`` and ``cancel`` for any job kind.

A kind's group (``client.training``, ``client.batch``) is this with the kind's operation
prefix and info type, plus its own ``submit``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Generic, TypeVar

from shipyard.client._follow import follow_log
from shipyard.client._group import _Group
from shipyard.errors import JobFailed
from shipyard.schemas.jobs import JobInfo, LogChunk

Info = TypeVar("Info", bound=JobInfo)


class JobGroup(_Group, Generic[Info]):
    """Jobs of one kind; ``prefix`` names its operations (``training.get_job``...)."""

    prefix: str
    noun: str
    info_type: type[Info]

    def get(self, job_id: str) -> Info:
        return self.info_type.model_validate(self._t.call(f"{self.prefix}.get_job", job_id=job_id))

    def list(self, limit: int = 50) -> builtins.list[Info]:
        found = self._t.call(f"{self.prefix}.list_jobs", limit=limit)
        return [self.info_type.model_validate(j) for j in found]

    def logs(self, job_id: str, offset: int = 0) -> LogChunk:
        return LogChunk.model_validate(
            self._t.call(f"{self.prefix}.read_log", job_id=job_id, offset=offset)
        )

    def cancel(self, job_id: str) -> Info:
        """End the job's whole process tree; it is marked cancelled."""
        return self.info_type.model_validate(
            self._t.call(f"{self.prefix}.cancel_job", job_id=job_id)
        )

    def wait(
        self,
        job_id: str,
        *,
        on_log: Callable[[str], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        poll_seconds: float = 0.2,
        timeout: float | None = None,
    ) -> Info:
        """Follow a job to its end; raise JobFailed unless it succeeded."""
        follow_log(
            lambda offset: self.logs(job_id, offset),
            f"{self.noun} {job_id}",
            on_log=on_log,
            on_progress=on_progress,
            poll_seconds=poll_seconds,
            timeout=timeout,
        )
        job = self.get(job_id)
        if job.status != "succeeded":
            raise JobFailed(f"{self.noun} {job_id} {job.status.replace('_', ' ')}: {job.message}")
        return job
