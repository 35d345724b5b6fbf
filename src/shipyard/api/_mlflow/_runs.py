"""MLflow's run routes over ``tracking`` operations: create, get, update, log, tags, and
delete and restore (soft: a deleted run is left out of searches unless asked for)."""

from __future__ import annotations

from typing import Any

from shipyard.api._mlflow._convert import (
    PARENT_TAG,
    RUN_NAME_TAG,
    ExperimentIds,
    Json,
    experiment_named,
    metric_json,
    run_info_json,
    run_json,
)
from shipyard.api._mlflow._paging import MAX_HISTORY_PAGE, offset_of, page, page_size
from shipyard.api._mlflow._request import MlflowRequest, run_id_of
from shipyard.api._mlflow._routes import PREFIX, MlflowRoute, call
from shipyard.api._mlflow._runs_search import search_runs
from shipyard.errors import InvalidInput
from shipyard.security import RequestContext
from shipyard.tracking import RunInfo

END_STATUSES = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "killed"}


def _experiment_id_of(ctx: RequestContext, run: RunInfo) -> str:
    return ExperimentIds(ctx.platform)(run.experiment)


def create_run(ctx: RequestContext, request: MlflowRequest) -> Json:
    """A run in the experiment the id names, tags kept as given; ``mlflow.parentRunId``
    makes it a child run (``parent``), as Shipyard's own nested runs are."""
    experiment = experiment_named(
        ctx.platform, request.text("experiment_id", default="0", required=False)
    )
    tags = request.key_values("tags")
    parent = tags.pop(PARENT_TAG, None) or None
    name = request.text("run_name", required=False) or tags.get(RUN_NAME_TAG) or None
    run: RunInfo = call(
        ctx, "tracking.create_run", experiment=experiment, name=name, tags=tags, parent=parent
    )
    return {"run": run_json(run, _experiment_id_of(ctx, run))}


def get_run(ctx: RequestContext, request: MlflowRequest) -> Json:
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id_of(request))
    return {"run": run_json(run, _experiment_id_of(ctx, run))}


def update_run(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Ending a run (FINISHED, FAILED, KILLED); RUNNING, or no status, changes nothing.
    A run keeps the name it was created with (a new one is refused before anything ends)."""
    run_id = run_id_of(request)
    status = request.text("status", required=False, default="RUNNING")
    if status not in ("RUNNING", *END_STATUSES):
        raise InvalidInput(f"must be one of RUNNING, {', '.join(END_STATUSES)}", field="status")
    name = request.text("run_name", required=False)
    if name and name != call(ctx, "tracking.get_run", run_id=run_id).name:
        raise InvalidInput("runs cannot be renamed in Shipyard", field="run_name")
    if status in END_STATUSES:
        run: RunInfo = call(ctx, "tracking.end_run", run_id=run_id, status=END_STATUSES[status])
    else:
        run = call(ctx, "tracking.get_run", run_id=run_id)
    return {"run_info": run_info_json(run, _experiment_id_of(ctx, run))}


def _metric(item: MlflowRequest, field: str) -> dict[str, Any]:
    try:
        timestamp = item.integer("timestamp")
        return {
            "key": item.text("key"),
            "value": item.number("value"),
            "step": item.integer("step", default=0),
            "timestamp": None if timestamp is None else timestamp / 1000,
        }
    except InvalidInput as error:
        raise InvalidInput(
            error.message, field=".".join(filter(None, (field, error.field)))
        ) from None


def _repeats(ctx: RequestContext, run_id: str, items: list[MlflowRequest]) -> set[int]:
    """Metrics sent with a ``model_id`` that are already the run's points: ``log_model``
    sends the run's metrics again for its logged model, which is part of the run here."""
    repeated: set[int] = set()
    history: dict[str, set[tuple[int, float, int]]] = {}
    for i, item in enumerate(items):
        key = item.fields.get("key")
        if not item.fields.get("model_id") or not isinstance(key, str) or not key:
            continue
        if key not in history:
            points = call(ctx, "tracking.metric_history", run_id=run_id, key=key)
            history[key] = {(p.step, p.value, metric_json(p)["timestamp"]) for p in points}
        metric = _metric(item, f"metrics.{i}")
        point = (metric["step"], metric["value"], item.integer("timestamp", default=0))
        if point in history[key]:
            repeated.add(i)
    return repeated


def log_batch(ctx: RequestContext, request: MlflowRequest) -> Json:
    items = request.objects("metrics")
    repeated = _repeats(ctx, run_id_of(request), items)
    metrics = [_metric(m, f"metrics.{i}") for i, m in enumerate(items) if i not in repeated]
    call(
        ctx,
        "tracking.log_batch",
        run_id=run_id_of(request),
        metrics=metrics,
        params=request.key_values("params"),
        tags=request.key_values("tags"),
    )
    return {}


def log_metric(ctx: RequestContext, request: MlflowRequest) -> Json:
    call(ctx, "tracking.log_batch", run_id=run_id_of(request), metrics=[_metric(request, "")])
    return {}


def log_param(ctx: RequestContext, request: MlflowRequest) -> Json:
    params = {request.text("key"): request.text("value", required=False)}
    call(ctx, "tracking.log_batch", run_id=run_id_of(request), params=params)
    return {}


def set_tag(ctx: RequestContext, request: MlflowRequest) -> Json:
    tags = {request.text("key"): request.text("value", required=False)}
    call(ctx, "tracking.log_batch", run_id=run_id_of(request), tags=tags)
    return {}


def delete_tag(ctx: RequestContext, request: MlflowRequest) -> Json:
    call(ctx, "tracking.delete_tag", run_id=run_id_of(request), key=request.text("key"))
    return {}


def delete_run(ctx: RequestContext, request: MlflowRequest) -> Json:
    """MLflow's soft delete: the run's lifecycle stage becomes "deleted"; it is restorable."""
    call(ctx, "tracking.delete_run", run_id=run_id_of(request))
    return {}


def restore_run(ctx: RequestContext, request: MlflowRequest) -> Json:
    call(ctx, "tracking.restore_run", run_id=run_id_of(request))
    return {}


def metric_history(ctx: RequestContext, request: MlflowRequest) -> Json:
    points = call(
        ctx, "tracking.metric_history", run_id=run_id_of(request), key=request.text("metric_key")
    )
    size = page_size(
        request.integer("max_results"), default=max(len(points), 1), limit=MAX_HISTORY_PAGE
    )
    chunk, token = page(points, offset_of(request.text("page_token", required=False)), size)
    result: Json = {"metrics": [metric_json(p) for p in chunk]}
    if token:
        result["next_page_token"] = token
    return result


ROUTES = (
    MlflowRoute("POST", f"{PREFIX}/runs/create", create_run, "tracking.create_run"),
    MlflowRoute("GET", f"{PREFIX}/runs/get", get_run, "tracking.get_run"),
    MlflowRoute("POST", f"{PREFIX}/runs/update", update_run, "tracking.end_run"),
    MlflowRoute("POST", f"{PREFIX}/runs/log-batch", log_batch, "tracking.log_batch"),
    MlflowRoute("POST", f"{PREFIX}/runs/log-metric", log_metric, "tracking.log_batch"),
    MlflowRoute("POST", f"{PREFIX}/runs/log-parameter", log_param, "tracking.log_batch"),
    MlflowRoute("POST", f"{PREFIX}/runs/set-tag", set_tag, "tracking.log_batch"),
    MlflowRoute("POST", f"{PREFIX}/runs/delete-tag", delete_tag, "tracking.delete_tag"),
    MlflowRoute("POST", f"{PREFIX}/runs/search", search_runs, "tracking.search_runs"),
    MlflowRoute("POST", f"{PREFIX}/runs/delete", delete_run, "tracking.delete_run"),
    MlflowRoute("POST", f"{PREFIX}/runs/restore", restore_run, "tracking.restore_run"),
    MlflowRoute("GET", f"{PREFIX}/metrics/get-history", metric_history, "tracking.metric_history"),
)
