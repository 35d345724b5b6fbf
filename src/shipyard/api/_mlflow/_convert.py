"""Shipyard's tracking and registry results as MLflow's JSON entities.

MLflow's experiment ids are strings of integers: an experiment's is its numeric id, and
Shipyard's ``default`` experiment is MLflow's default ``"0"`` both ways. Times are
milliseconds since the epoch; statuses are upper case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shipyard.errors import InvalidInput
from shipyard.platform import Platform
from shipyard.registry import ModelInfo, ModelVersionInfo
from shipyard.tracking import ExperimentInfo, MetricPoint, RunInfo, experiment_id, experiment_name

DEFAULT_EXPERIMENT = "default"
DEFAULT_EXPERIMENT_ID = "0"
RUN_STATUSES = {
    "running": "RUNNING",
    "finished": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
}
RUN_NAME_TAG = "mlflow.runName"
PARENT_TAG = "mlflow.parentRunId"
LOGGED_MODEL_TAG = "mlflow.loggedModel."
"""A run tag ``mlflow.loggedModel.<name>`` records the MLflow 3 logged model ``<name>``
whose files are the run's artifacts under ``<name>/`` (see ``_logged_models``)."""
Json = dict[str, Any]


def millis(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def mlflow_experiment_id(name: str, numeric_id: int) -> str:
    return DEFAULT_EXPERIMENT_ID if name == DEFAULT_EXPERIMENT else str(numeric_id)


def experiment_named(platform: Platform, mlflow_id: str, *, field: str = "experiment_id") -> str:
    """The Shipyard name of the experiment an MLflow id names."""
    if mlflow_id == DEFAULT_EXPERIMENT_ID:
        return DEFAULT_EXPERIMENT
    if not mlflow_id.isdigit() or len(mlflow_id) > 18:
        raise InvalidInput(f"{mlflow_id!r} is not an experiment id", field=field)
    return experiment_name(platform, int(mlflow_id))


class ExperimentIds:
    """Experiment name -> MLflow id, looked up once per name for one request."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._ids: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._ids:
            numeric = 0 if name == DEFAULT_EXPERIMENT else experiment_id(self._platform, name)
            self._ids[name] = mlflow_experiment_id(name, numeric)
        return self._ids[name]


def artifact_root(mlflow_experiment: str, run_id: str) -> str:
    """Where the client puts and gets a run's artifacts: the artifact proxy routes."""
    return f"mlflow-artifacts:/{mlflow_experiment}/{run_id}/artifacts"


def model_artifact_root(mlflow_experiment: str, model_id: str) -> str:
    """Where the client puts and gets a logged model's files (they are its run's)."""
    return f"mlflow-artifacts:/{mlflow_experiment}/models/{model_id}/artifacts"


def logged_model_id(run_id: str, name: str) -> str:
    """A logged model's id: its run and its name (hex), so no table maps one to the other."""
    return f"m-{run_id}-{name.encode().hex()}"


def model_outputs(run: RunInfo) -> list[Json]:
    """The logged models a run produced, as MLflow's ``run.outputs.model_outputs``."""
    return [
        {"model_id": logged_model_id(run.id, key[len(LOGGED_MODEL_TAG) :]), "step": 0}
        for key in sorted(run.tags)
        if key.startswith(LOGGED_MODEL_TAG)
    ]


def experiment_json(info: ExperimentInfo) -> Json:
    mlflow_id = mlflow_experiment_id(info.name, info.id)
    created = millis(info.created_at)
    return {
        "experiment_id": mlflow_id,
        "name": info.name,
        "artifact_location": f"mlflow-artifacts:/{mlflow_id}",
        "lifecycle_stage": "active",
        "creation_time": created,
        "last_update_time": created,
        "tags": [],
    }


def run_info_json(run: RunInfo, mlflow_experiment: str) -> Json:
    info: Json = {
        "run_id": run.id,
        "run_uuid": run.id,
        "run_name": run.name,
        "experiment_id": mlflow_experiment,
        "user_id": run.created_by,
        "status": RUN_STATUSES.get(run.status, run.status.upper()),
        "start_time": millis(run.start_time),
        "artifact_uri": artifact_root(mlflow_experiment, run.id),
        "lifecycle_stage": "deleted" if run.deleted else "active",
    }
    if run.end_time is not None:
        info["end_time"] = millis(run.end_time)
    return info


def run_json(run: RunInfo, mlflow_experiment: str) -> Json:
    """A run with its latest metric values (as step 0 at the run's last time), params, and
    tags with ``mlflow.runName``, which MLflow's own server always sets."""
    stamp = millis(run.end_time or run.start_time)
    tags = {RUN_NAME_TAG: run.name} | run.tags
    if run.parent_run_id is not None:
        tags[PARENT_TAG] = run.parent_run_id
    return {
        "info": run_info_json(run, mlflow_experiment),
        "data": {
            "metrics": [
                {"key": k, "value": v, "timestamp": stamp, "step": 0}
                for k, v in sorted(run.metrics.items())
            ],
            "params": [{"key": k, "value": v} for k, v in sorted(run.params.items())],
            "tags": [{"key": k, "value": v} for k, v in sorted(tags.items())],
        },
        "inputs": {"dataset_inputs": []},
        "outputs": {"model_outputs": model_outputs(run)},
    }


def metric_json(point: MetricPoint) -> Json:
    timestamp = 0 if point.timestamp is None else round(point.timestamp * 1000)
    return {"key": point.key, "value": point.value, "timestamp": timestamp, "step": point.step}


def version_json(version: ModelVersionInfo) -> Json:
    created = millis(version.created_at)
    return {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": created,
        "last_updated_timestamp": created,
        "user_id": version.created_by,
        "current_stage": "None",
        "description": "",
        "source": f"runs:/{version.run_id}/model",
        "run_id": version.run_id,
        "status": "READY",
        "tags": [
            {"key": "shipyard.flavor", "value": version.flavor},
            {"key": "shipyard.approval", "value": version.approval},
            {"key": "shipyard.digest", "value": version.digest},
        ],
        "aliases": list(version.aliases),
    }


def model_json(model: ModelInfo) -> Json:
    created = millis(model.created_at)
    latest = [version_json(v) for v in model.versions if v.version == model.latest_version]
    return {
        "name": model.name,
        "creation_timestamp": created,
        "last_updated_timestamp": max([created or 0, *(v["creation_timestamp"] for v in latest)]),
        "latest_versions": latest,
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(model.aliases.items())],
        "tags": [],
        "description": "",
    }
