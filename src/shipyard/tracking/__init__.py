"""Experiment tracking: experiments, runs, metrics, params, tags, artifacts."""

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
    start_run,
    store_artifact,
    write_batch,
)

__all__ = [
    "ArtifactInfo",
    "ExperimentInfo",
    "MetricPoint",
    "RunInfo",
    "artifact_row",
    "create_experiment",
    "create_run",
    "end_run",
    "ensure_experiment",
    "get_artifact",
    "get_run",
    "list_experiments",
    "list_runs",
    "log_artifact",
    "log_batch",
    "metric_history",
    "run_info",
    "start_run",
    "store_artifact",
    "write_batch",
]
