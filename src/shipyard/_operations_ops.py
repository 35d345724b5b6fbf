"""The catalog's entries for the operations side of the lifecycle: monitors, alarms,
pipelines and cost (``operations.py`` holds the rest and the whole catalog)."""

from __future__ import annotations

from shipyard import alarms as alarm_service
from shipyard import cost as cost_service
from shipyard import monitoring as monitor_service
from shipyard import pipelines as pipeline_service
from shipyard._operation import Operation

_V1 = "/api/v1"

OPS_OPERATIONS: tuple[Operation, ...] = (
    # monitors
    Operation("monitoring.create", "POST", f"{_V1}/monitors", monitor_service.create_monitor, 201),
    Operation("monitoring.list", "GET", f"{_V1}/monitors", monitor_service.list_monitors),
    Operation("monitoring.get", "GET", f"{_V1}/monitors/{{name}}", monitor_service.get_monitor),
    Operation(
        "monitoring.delete", "DELETE", f"{_V1}/monitors/{{name}}", monitor_service.delete_monitor
    ),
    Operation(
        "monitoring.run", "POST", f"{_V1}/monitors/{{name}}/runs", monitor_service.run_monitor, 201
    ),
    Operation(
        "monitoring.history",
        "GET",
        f"{_V1}/monitors/{{name}}/runs",
        monitor_service.monitor_history,
    ),
    Operation(
        "monitoring.report",
        "GET",
        f"{_V1}/monitors/{{name}}/report",
        monitor_service.get_monitor_report,
    ),
    Operation(
        "monitoring.result",
        "GET",
        f"{_V1}/monitors/{{name}}/result",
        monitor_service.get_monitor_result,
    ),
    Operation(
        "monitoring.metrics",
        "GET",
        f"{_V1}/monitors/{{name}}/metrics",
        monitor_service.monitor_metrics,
        media_type="text/plain; version=0.0.4; charset=utf-8",
    ),
    # alarms
    Operation("alarms.put", "PUT", f"{_V1}/alarms/{{name}}", alarm_service.put_alarm),
    Operation("alarms.list", "GET", f"{_V1}/alarms", alarm_service.list_alarms),
    Operation("alarms.get", "GET", f"{_V1}/alarms/{{name}}", alarm_service.get_alarm),
    Operation(
        "alarms.history", "GET", f"{_V1}/alarms/{{name}}/history", alarm_service.alarm_history
    ),
    Operation(
        "alarms.evaluate",
        "POST",
        f"{_V1}/alarms/{{name}}/evaluations",
        alarm_service.evaluate_alarm,
    ),
    Operation("alarms.delete", "DELETE", f"{_V1}/alarms/{{name}}", alarm_service.delete_alarm),
    # pipelines
    Operation("pipelines.create", "PUT", f"{_V1}/pipelines", pipeline_service.create_pipeline),
    Operation("pipelines.list", "GET", f"{_V1}/pipelines", pipeline_service.list_pipelines),
    Operation("pipelines.get", "GET", f"{_V1}/pipelines/{{name}}", pipeline_service.get_pipeline),
    Operation(
        "pipelines.delete", "DELETE", f"{_V1}/pipelines/{{name}}", pipeline_service.delete_pipeline
    ),
    Operation(
        "pipelines.start_run",
        "POST",
        f"{_V1}/pipelines/{{name}}/runs",
        pipeline_service.start_pipeline_run,
        201,
    ),
    Operation(
        "pipelines.list_runs",
        "GET",
        f"{_V1}/pipelines/{{name}}/runs",
        pipeline_service.list_pipeline_runs,
    ),
    Operation(
        "pipelines.get_run",
        "GET",
        f"{_V1}/pipeline-runs/{{run_id}}",
        pipeline_service.get_pipeline_run,
    ),
    Operation(
        "pipelines.read_log",
        "GET",
        f"{_V1}/pipeline-runs/{{run_id}}/log",
        pipeline_service.read_pipeline_run_log,
    ),
    Operation(
        "pipelines.cancel_run",
        "POST",
        f"{_V1}/pipeline-runs/{{run_id}}/cancel",
        pipeline_service.cancel_pipeline_run,
    ),
    Operation(
        "pipelines.resume_run",
        "POST",
        f"{_V1}/pipeline-runs/{{run_id}}/resume",
        pipeline_service.resume_pipeline_run,
    ),
    # cost
    Operation("cost.report", "GET", f"{_V1}/cost", cost_service.cost_report),
    Operation(
        "endpoints.recommend",
        "POST",
        f"{_V1}/endpoints/{{name}}/recommendations",
        cost_service.recommend_configuration,
    ),
)
