"""Experiment tracking: experiments, runs, metrics, params, tags, artifacts, run search."""

from shipyard.schemas.tracking import (
    ArtifactInfo,
    ExperimentInfo,
    MetricChart,
    MetricPoint,
    MetricSeries,
    RunInfo,
    RunPage,
    RunPurgeInfo,
)
from shipyard.tracking._downsample import metric_chart
from shipyard.tracking._filter import Comparison, OrderKey, parse_filter, parse_order_by
from shipyard.tracking._lifecycle import delete_run, restore_run
from shipyard.tracking._lookup import experiment_id, experiment_name, get_experiment
from shipyard.tracking._purge import deleted_runs, purge_runs
from shipyard.tracking._read import (
    get_run,
    list_runs,
    metric_history,
    metric_series,
    read_series,
    run_info,
    run_infos,
)
from shipyard.tracking._rows import ensure_experiment, run_resource, run_row
from shipyard.tracking._search import SYSTEM_TAGS, search_runs
from shipyard.tracking._service import (
    artifact_row,
    check_artifact_path,
    create_experiment,
    create_run,
    end_run,
    get_artifact,
    list_experiments,
    log_artifact,
    log_batch,
    start_run,
    store_artifact,
    write_batch,
)
from shipyard.tracking._tags import delete_tag

__all__ = [
    "SYSTEM_TAGS",
    "ArtifactInfo",
    "Comparison",
    "ExperimentInfo",
    "MetricChart",
    "MetricPoint",
    "MetricSeries",
    "OrderKey",
    "RunInfo",
    "RunPage",
    "RunPurgeInfo",
    "artifact_row",
    "check_artifact_path",
    "create_experiment",
    "create_run",
    "delete_run",
    "delete_tag",
    "deleted_runs",
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
    "metric_chart",
    "metric_history",
    "metric_series",
    "parse_filter",
    "parse_order_by",
    "purge_runs",
    "read_series",
    "restore_run",
    "run_info",
    "run_infos",
    "run_resource",
    "run_row",
    "search_runs",
    "start_run",
    "store_artifact",
    "write_batch",
]
