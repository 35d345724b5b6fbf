"""Training jobs in the SDK: submit a spec, follow its log and progress, get the run."""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from shipyard.client._follow import follow_log
from shipyard.client._resources import _Group, read_file
from shipyard.errors import InvalidInput, JobFailed
from shipyard.jobs import LogChunk, TrainingJobInfo


def read_spec(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A training spec from a YAML file, or an error naming the file."""
    try:
        loaded = yaml.safe_load(read_file(path))
    except yaml.YAMLError as error:
        raise InvalidInput(f"{Path(path).name} is not valid YAML: {error}", field="spec") from None
    if not isinstance(loaded, dict):
        raise InvalidInput(f"{Path(path).name} must hold a mapping", field="spec")
    return loaded


class Training(_Group):
    def submit(self, spec: dict[str, Any] | str | os.PathLike[str]) -> TrainingJobInfo:
        """Start a training job from a spec (a dict, or the path of a YAML file)."""
        body = spec if isinstance(spec, dict) else read_spec(spec)
        return TrainingJobInfo.model_validate(self._t.call("training.create_job", spec=body))

    def get(self, job_id: str) -> TrainingJobInfo:
        return TrainingJobInfo.model_validate(self._t.call("training.get_job", job_id=job_id))

    def list(self, limit: int = 50) -> builtins.list[TrainingJobInfo]:
        return [
            TrainingJobInfo.model_validate(j)
            for j in self._t.call("training.list_jobs", limit=limit)
        ]

    def logs(self, job_id: str, offset: int = 0) -> LogChunk:
        return LogChunk.model_validate(
            self._t.call("training.read_log", job_id=job_id, offset=offset)
        )

    def wait(
        self,
        job_id: str,
        *,
        on_log: Callable[[str], None] | None = None,
        on_progress: Callable[[float, str], None] | None = None,
        poll_seconds: float = 0.2,
        timeout: float | None = None,
    ) -> TrainingJobInfo:
        """Follow a job to its end; raise JobFailed if it failed."""
        follow_log(
            lambda offset: self.logs(job_id, offset),
            f"training job {job_id}",
            on_log=on_log,
            on_progress=on_progress,
            poll_seconds=poll_seconds,
            timeout=timeout,
        )
        job = self.get(job_id)
        if job.status == "failed":
            raise JobFailed(f"training job {job_id} failed: {job.message}")
        return job

    def train(self, spec: dict[str, Any] | str | os.PathLike[str], **wait: Any) -> TrainingJobInfo:
        """Submit a job and wait for it."""
        return self.wait(self.submit(spec).id, **wait)
