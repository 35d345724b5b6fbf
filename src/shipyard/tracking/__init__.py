"""Experiment tracking: experiments, runs, metrics, params, tags, artifacts."""

from shipyard.tracking._lifecycle import delete_run, restore_run
from shipyard.tracking._lookup import experiment_id, experiment_name, get_experiment
from shipyard.tracking._models import ArtifactInfo, ExperimentInfo, MetricPoint, RunInfo
from shipyard.tracking._service import (
    artifact_row,
    create_experiment,
    create_run,
    end_run,
    ensure_experiment,
    get_artifact,
    get_run,
    list_experiments,
    list_runs,
    log_artifact,
    log_batch,
    metric_history,
    run_info,
    run_resource,
    start_run,
    store_artifact,
    write_batch,
)
from shipyard.tracking._tags import delete_tag

__all__ = [
    "ArtifactInfo",
    "ExperimentInfo",
    "MetricPoint",
    "RunInfo",
    "artifact_row",
    "create_experiment",
    "create_run",
    "delete_run",
    "delete_tag",
    "end_run",
    "ensure_experiment",
    "experiment_id",
    "experiment_name",
    "get_artifact",
    "get_experiment",
    "get_run",
    "list_experiments",
    "list_runs",
    "log_artifact",
    "log_batch",
    "metric_history",
    "restore_run",
    "run_info",
    "run_resource",
    "start_run",
    "store_artifact",
    "write_batch",
]
