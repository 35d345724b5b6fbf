"""Experiment tracking in the SDK: runs as context managers that log metrics in batches."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from shipyard.client._resources import _Group, read_file
from shipyard.client._transport import Transport
from shipyard.tracking import ArtifactInfo, ExperimentInfo, MetricPoint, RunInfo


class ActiveRun:
    """A running run. Metrics are buffered and sent in batches; leaving the block ends the run."""

    def __init__(
        self,
        transport: Transport,
        info: RunInfo,
        *,
        batch_size: int = 1000,
        flush_seconds: float = 2.0,
    ) -> None:
        self._t = transport
        self.info = info
        self._pending: list[dict[str, Any]] = []
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._last_flush = time.monotonic()

    @property
    def id(self) -> str:
        return self.info.id

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: float | None = None
    ) -> None:
        self._pending.append(
            {"key": key, "value": float(value), "step": step, "timestamp": timestamp or time.time()}
        )
        if (
            len(self._pending) >= self._batch_size
            or time.monotonic() - self._last_flush > self._flush_seconds
        ):
            self.flush()

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        now = time.time()
        for key, value in metrics.items():
            self.log_metric(key, value, step=step, timestamp=now)

    def log_params(self, params: dict[str, Any]) -> None:
        self._t.call(
            "tracking.log_batch", run_id=self.id, params={k: str(v) for k, v in params.items()}
        )

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._t.call(
            "tracking.log_batch", run_id=self.id, tags={k: str(v) for k, v in tags.items()}
        )

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> ArtifactInfo:
        data = read_file(path)
        return ArtifactInfo.model_validate(
            self._t.call(
                "tracking.log_artifact", run_id=self.id, path=name or Path(path).name, content=data
            )
        )

    def flush(self) -> None:
        """Send buffered metrics now."""
        if self._pending:
            batch, self._pending = self._pending, []
            self._t.call("tracking.log_batch", run_id=self.id, metrics=batch)
        self._last_flush = time.monotonic()

    def end(self, status: str = "finished") -> RunInfo:
        self.flush()
        self.info = RunInfo.model_validate(
            self._t.call("tracking.end_run", run_id=self.id, status=status)
        )
        return self.info

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end("failed" if exc_type else "finished")


class Tracking(_Group):
    def create_experiment(self, name: str) -> ExperimentInfo:
        return ExperimentInfo.model_validate(self._t.call("tracking.create_experiment", name=name))

    def list_experiments(self) -> list[ExperimentInfo]:
        return [ExperimentInfo.model_validate(e) for e in self._t.call("tracking.list_experiments")]

    def start_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        *,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
    ) -> ActiveRun:
        info = self._t.call(
            "tracking.create_run",
            experiment=experiment,
            name=name,
            params={k: str(v) for k, v in (params or {}).items()},
            tags={k: str(v) for k, v in (tags or {}).items()},
        )
        return ActiveRun(self._t, RunInfo.model_validate(info))

    def get_run(self, run_id: str) -> RunInfo:
        return RunInfo.model_validate(self._t.call("tracking.get_run", run_id=run_id))

    def list_runs(
        self, experiment: str = "default", limit: int = 100, view: str = "active"
    ) -> list[RunInfo]:
        """The newest runs: ``active`` (not deleted), ``deleted`` or ``all``."""
        runs = self._t.call("tracking.list_runs", experiment=experiment, limit=limit, view=view)
        return [RunInfo.model_validate(r) for r in runs]

    def delete_run(self, run_id: str) -> RunInfo:
        """Delete a run softly: hidden from ``list_runs``, restorable, nothing removed."""
        return RunInfo.model_validate(self._t.call("tracking.delete_run", run_id=run_id))

    def restore_run(self, run_id: str) -> RunInfo:
        return RunInfo.model_validate(self._t.call("tracking.restore_run", run_id=run_id))

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        return [
            MetricPoint.model_validate(m)
            for m in self._t.call("tracking.metric_history", run_id=run_id, key=key)
        ]

    def get_artifact(self, run_id: str, path: str) -> bytes:
        data = self._t.call("tracking.get_artifact", run_id=run_id, path=path)
        assert isinstance(data, bytes)
        return data
