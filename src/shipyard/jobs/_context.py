"""What the user's training function gets: its data, params, run, and ``log_model``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from shipyard.datasets import find_version, load_version_table
from shipyard.errors import InvalidInput
from shipyard.jobs._attempt import JobAttempt
from shipyard.jobs._log_model import StoredArtifacts, store_logged_model
from shipyard.names import parse_reference
from shipyard.tracking import MetricPoint, store_artifact, write_batch

if TYPE_CHECKING:
    import pandas as pd

_RESERVED = ("model/", "code/")


class RunLog:
    """The job's run: params, metrics, tags and artifacts go straight to tracking."""

    def __init__(self, job: JobAttempt, run_id: str) -> None:
        self._job, self.id = job, run_id

    def log_params(self, params: dict[str, Any]) -> None:
        self._write([], {k: str(v) for k, v in params.items()}, {})

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self._write([MetricPoint(key=key, value=float(value), step=step)], {}, {})

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        points = [MetricPoint(key=k, value=float(v), step=step) for k, v in metrics.items()]
        self._write(points, {}, {})

    def set_tags(self, tags: dict[str, Any]) -> None:
        self._write([], {}, {k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str, data: bytes) -> None:
        if path.startswith(_RESERVED):
            raise InvalidInput("model/ and code/ are written by the job itself", field="path")
        with self._job.platform.db.session() as session:
            store_artifact(self._job.platform, session, self.id, path, data)

    def _write(
        self, metrics: list[MetricPoint], params: dict[str, str], tags: dict[str, str]
    ) -> None:
        with self._job.platform.db.session() as session:
            write_batch(session, self.id, metrics, params, tags)


class TrainingContext:
    """Handed to ``entrypoint(context)``: ``params``, ``run``, the datasets as Arrow or
    pandas (``table()``, ``frame()``, by the spec's names), and ``log_model``."""

    def __init__(
        self, job: JobAttempt, run_id: str, params: dict[str, Any], datasets: dict[str, str]
    ) -> None:
        self._job = job
        self.params = dict(params)
        self.run = RunLog(job, run_id)
        self.datasets = dict(datasets)
        self.job_id = job.id
        self._tables: dict[str, pa.Table] = {}
        self.models: StoredArtifacts = {}

    def table(self, name: str | None = None) -> pa.Table:
        """A dataset version of the spec as an Arrow table (the only one if no name)."""
        key = self._name(name)
        if key not in self._tables:
            ref = parse_reference(self.datasets[key], field="dataset")
            with self._job.platform.db.session() as session:
                version = find_version(session, ref.name, ref.version)
            self._tables[key] = load_version_table(self._job.platform, version)
        return self._tables[key]

    def frame(self, name: str | None = None) -> pd.DataFrame:
        """A dataset version of the spec as a pandas DataFrame."""
        return self.table(name).to_pandas()

    def log_model(self, model: Any, input_example: Any = None, **options: Any) -> None:
        """Store the fitted model in its safe format, as ``client.log_model`` does (same
        options: ``signature``, ``task``, ``target``, ``export`` ...); the run gets ``model/``
        when the job succeeds (a later call replaces an earlier one)."""
        self.models = store_logged_model(
            self._job.platform, model, input_example=input_example, **options
        )
        self.log(f"model stored ({self.models['model/model.bin'][1]} bytes)")

    def log(self, message: str) -> None:
        self._job.log(message)

    def progress(self, fraction: float, stage: str) -> None:
        self._job.progress(fraction, stage)

    def _name(self, name: str | None) -> str:
        if name is None:
            if len(self.datasets) != 1:
                raise InvalidInput(f"name one of {sorted(self.datasets)}", field="name")
            return next(iter(self.datasets))
        if name not in self.datasets:
            raise InvalidInput(f"{name!r} is not one of {sorted(self.datasets)}", field="name")
        return name
