"""MLflow's runs/search, answered by ``tracking.search_runs`` (MLflow's filter grammar).

MLflow names experiments by id and run views by ``run_view_type``; filters, ``order_by`` and
page tokens pass through unchanged, so their errors name the same fields.
"""

from __future__ import annotations

from shipyard.api._mlflow._convert import ExperimentIds, Json, experiment_named, run_json
from shipyard.api._mlflow._paging import page_size
from shipyard.api._mlflow._request import MlflowRequest
from shipyard.api._mlflow._routes import call
from shipyard.errors import InvalidInput
from shipyard.security import RequestContext
from shipyard.tracking import RunPage

VIEWS = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}


def search_runs(ctx: RequestContext, request: MlflowRequest) -> Json:
    experiments = [
        experiment_named(ctx.platform, e, field="experiment_ids")
        for e in request.strings("experiment_ids")
    ]
    if not experiments:
        raise InvalidInput("name one or more experiments", field="experiment_ids")
    view = request.text("run_view_type", required=False, default="ACTIVE_ONLY")
    if view not in VIEWS:
        raise InvalidInput(f"must be one of {', '.join(VIEWS)}", field="run_view_type")
    found: RunPage = call(
        ctx,
        "tracking.search_runs",
        experiments=experiments,
        filter=request.text("filter", required=False),
        order_by=request.strings("order_by") or None,
        max_results=page_size(request.integer("max_results"), default=1000),
        page_token=request.text("page_token", required=False) or None,
        view=VIEWS[view],
    )
    ids = ExperimentIds(ctx.platform)
    result: Json = {"runs": [run_json(r, ids(r.experiment)) for r in found.runs]}
    if found.next_page_token:
        result["next_page_token"] = found.next_page_token
    return result
