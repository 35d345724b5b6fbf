"""The catalog's entries for the operations side of the lifecycle: monitors, alarms,
pipelines and cost (``operations.py`` holds the rest and the whole catalog)."""

from __future__ import annotations

from shipyard._operation import Operation

_V1 = "/api/v1"

OPS_OPERATIONS: tuple[Operation, ...] = (
    # monitors
    Operation(
        "monitoring.create", "POST", f"{_V1}/monitors", "shipyard.monitoring:create_monitor", 201
    ),
    Operation("monitoring.list", "GET", f"{_V1}/monitors", "shipyard.monitoring:list_monitors"),
    Operation(
        "monitoring.get", "GET", f"{_V1}/monitors/{{name}}", "shipyard.monitoring:get_monitor"
    ),
    Operation(
        "monitoring.delete",
        "DELETE",
        f"{_V1}/monitors/{{name}}",
        "shipyard.monitoring:delete_monitor",
    ),
    Operation(
        "monitoring.run",
        "POST",
        f"{_V1}/monitors/{{name}}/runs",
        "shipyard.monitoring:run_monitor",
        201,
    ),
    Operation(
        "monitoring.history",
        "GET",
        f"{_V1}/monitors/{{name}}/runs",
        "shipyard.monitoring:monitor_history",
    ),
    Operation(
        "monitoring.report",
        "GET",
        f"{_V1}/monitors/{{name}}/report",
        "shipyard.monitoring:get_monitor_report",
    ),
    Operation(
        "monitoring.result",
        "GET",
        f"{_V1}/monitors/{{name}}/result",
        "shipyard.monitoring:get_monitor_result",
    ),
    Operation(
        "monitoring.metrics",
        "GET",
        f"{_V1}/monitors/{{name}}/metrics",
        "shipyard.monitoring:monitor_metrics",
        media_type="text/plain; version=0.0.4; charset=utf-8",
    ),
    # alarms
    Operation("alarms.put", "PUT", f"{_V1}/alarms/{{name}}", "shipyard.alarms:put_alarm"),
    Operation("alarms.list", "GET", f"{_V1}/alarms", "shipyard.alarms:list_alarms"),
    Operation("alarms.get", "GET", f"{_V1}/alarms/{{name}}", "shipyard.alarms:get_alarm"),
    Operation(
        "alarms.history", "GET", f"{_V1}/alarms/{{name}}/history", "shipyard.alarms:alarm_history"
    ),
    Operation(
        "alarms.evaluate",
        "POST",
        f"{_V1}/alarms/{{name}}/evaluations",
        "shipyard.alarms:evaluate_alarm",
    ),
    Operation("alarms.delete", "DELETE", f"{_V1}/alarms/{{name}}", "shipyard.alarms:delete_alarm"),
    # pipelines
    Operation("pipelines.create", "PUT", f"{_V1}/pipelines", "shipyard.pipelines:create_pipeline"),
    Operation("pipelines.list", "GET", f"{_V1}/pipelines", "shipyard.pipelines:list_pipelines"),
    Operation(
        "pipelines.get", "GET", f"{_V1}/pipelines/{{name}}", "shipyard.pipelines:get_pipeline"
    ),
    Operation(
        "pipelines.delete",
        "DELETE",
        f"{_V1}/pipelines/{{name}}",
        "shipyard.pipelines:delete_pipeline",
    ),
    Operation(
        "pipelines.start_run",
        "POST",
        f"{_V1}/pipelines/{{name}}/runs",
        "shipyard.pipelines:start_pipeline_run",
        201,
    ),
    Operation(
        "pipelines.list_runs",
        "GET",
        f"{_V1}/pipelines/{{name}}/runs",
        "shipyard.pipelines:list_pipeline_runs",
    ),
    Operation(
        "pipelines.get_run",
        "GET",
        f"{_V1}/pipeline-runs/{{run_id}}",
        "shipyard.pipelines:get_pipeline_run",
    ),
    Operation(
        "pipelines.read_log",
        "GET",
        f"{_V1}/pipeline-runs/{{run_id}}/log",
        "shipyard.pipelines:read_pipeline_run_log",
    ),
    Operation(
        "pipelines.cancel_run",
        "POST",
        f"{_V1}/pipeline-runs/{{run_id}}/cancel",
        "shipyard.pipelines:cancel_pipeline_run",
    ),
    Operation(
        "pipelines.resume_run",
        "POST",
        f"{_V1}/pipeline-runs/{{run_id}}/resume",
        "shipyard.pipelines:resume_pipeline_run",
    ),
    # cost
    Operation("cost.report", "GET", f"{_V1}/cost", "shipyard.cost:cost_report"),
    Operation(
        "endpoints.recommend",
        "POST",
        f"{_V1}/endpoints/{{name}}/recommendations",
        "shipyard.cost:recommend_configuration",
    ),
)
