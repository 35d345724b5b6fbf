"""The catalog's entries for experiment tracking: experiments, runs (logging, search,
delete, restore and purge), metrics and artifacts (``operations.py`` holds the whole
catalog, where these stand in their place after the datasets' routes)."""

from __future__ import annotations

from shipyard._operation import Operation

_V1 = "/api/v1"

TRACKING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "tracking.create_experiment",
        "POST",
        f"{_V1}/experiments",
        "shipyard.tracking:create_experiment",
        201,
    ),
    Operation(
        "tracking.list_experiments",
        "GET",
        f"{_V1}/experiments",
        "shipyard.tracking:list_experiments",
    ),
    Operation(
        "tracking.get_experiment",
        "GET",
        f"{_V1}/experiments/{{name}}",
        "shipyard.tracking:get_experiment",
    ),
    Operation("tracking.create_run", "POST", f"{_V1}/runs", "shipyard.tracking:create_run", 201),
    Operation("tracking.list_runs", "GET", f"{_V1}/runs", "shipyard.tracking:list_runs"),
    Operation(
        "tracking.search_runs", "POST", f"{_V1}/runs/search", "shipyard.tracking:search_runs"
    ),
    Operation("tracking.get_run", "GET", f"{_V1}/runs/{{run_id}}", "shipyard.tracking:get_run"),
    Operation(
        "tracking.log_batch", "POST", f"{_V1}/runs/{{run_id}}/log", "shipyard.tracking:log_batch"
    ),
    Operation(
        "tracking.end_run", "POST", f"{_V1}/runs/{{run_id}}/end", "shipyard.tracking:end_run"
    ),
    Operation(
        "tracking.delete_run", "DELETE", f"{_V1}/runs/{{run_id}}", "shipyard.tracking:delete_run"
    ),
    Operation(
        "tracking.restore_run",
        "POST",
        f"{_V1}/runs/{{run_id}}/restore",
        "shipyard.tracking:restore_run",
    ),
    Operation("tracking.purge_runs", "POST", f"{_V1}/runs/purge", "shipyard.tracking:purge_runs"),
    Operation(
        "tracking.delete_tag",
        "DELETE",
        f"{_V1}/runs/{{run_id}}/tags/{{key}}",
        "shipyard.tracking:delete_tag",
    ),
    Operation(
        "tracking.metric_history",
        "GET",
        f"{_V1}/runs/{{run_id}}/metrics/{{key}}",
        "shipyard.tracking:metric_history",
    ),
    Operation(
        "tracking.metric_series",
        "GET",
        f"{_V1}/runs/{{run_id}}/metrics",
        "shipyard.tracking:metric_series",
    ),
    Operation(
        "tracking.log_artifact",
        "PUT",
        f"{_V1}/runs/{{run_id}}/artifacts",
        "shipyard.tracking:log_artifact",
        raw_body="content",
    ),
    Operation(
        "tracking.get_artifact",
        "GET",
        f"{_V1}/runs/{{run_id}}/artifact",
        "shipyard.tracking:get_artifact",
    ),
)
