"""MLflow's runs/search: runs of experiments, newest first, a page at a time.

The one place that searches runs for MLflow. Filters and orders other than the newest
first are refused here until ``tracking.search_runs`` (MLflow's filter grammar) takes
this function's place.
"""

from __future__ import annotations

from shipyard.api._mlflow._convert import ExperimentIds, Json, experiment_named, run_json
from shipyard.api._mlflow._paging import MAX_PAGE, offset_of, page, page_size
from shipyard.api._mlflow._request import MlflowRequest
from shipyard.api._mlflow._routes import call
from shipyard.errors import InvalidInput
from shipyard.security import RequestContext
from shipyard.tracking import RunInfo

VIEWS = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}
NEWEST_FIRST = ("", "start_time DESC", "attributes.start_time DESC", "attribute.start_time DESC")


def search_runs(ctx: RequestContext, request: MlflowRequest) -> Json:
    experiments = [
        experiment_named(ctx.platform, e, field="experiment_ids")
        for e in request.strings("experiment_ids")
    ]
    if not experiments:
        raise InvalidInput("name one or more experiments", field="experiment_ids")
    if request.text("filter", required=False).strip():
        raise InvalidInput("filters on runs are not supported yet", field="filter")
    if any(o.strip() not in NEWEST_FIRST for o in request.strings("order_by")):
        raise InvalidInput("runs are ordered newest first (start_time DESC) only", field="order_by")
    view = request.text("run_view_type", required=False, default="ACTIVE_ONLY")
    if view not in VIEWS:
        raise InvalidInput(f"must be one of {', '.join(VIEWS)}", field="run_view_type")
    size = page_size(request.integer("max_results"), default=1000)
    offset = offset_of(request.text("page_token", required=False))
    wanted = min(offset + size + 1, MAX_PAGE)
    runs: list[RunInfo] = []
    for experiment in experiments:
        runs += call(
            ctx, "tracking.list_runs", experiment=experiment, limit=wanted, view=VIEWS[view]
        )
    runs.sort(key=lambda r: (r.start_time, r.id), reverse=True)
    chunk, token = page(runs[:wanted], offset, size)
    ids = ExperimentIds(ctx.platform)
    result: Json = {"runs": [run_json(r, ids(r.experiment)) for r in chunk]}
    if token:
        result["next_page_token"] = token
    return result
