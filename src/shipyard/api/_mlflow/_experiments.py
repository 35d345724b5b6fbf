"""MLflow's experiment routes over ``tracking`` operations."""

from __future__ import annotations

from shipyard.api._mlflow._convert import Json, experiment_json, experiment_named
from shipyard.api._mlflow._paging import page_size
from shipyard.api._mlflow._request import MlflowRequest
from shipyard.api._mlflow._routes import PREFIX, MlflowRoute, call
from shipyard.errors import InvalidInput
from shipyard.schemas.paging import MAX_LIMIT, Page
from shipyard.security import RequestContext
from shipyard.tracking import ExperimentInfo


def create_experiment(ctx: RequestContext, request: MlflowRequest) -> Json:
    name = request.text("name")
    if request.objects("tags"):
        raise InvalidInput("Shipyard experiments have no tags; tag the runs", field="tags")
    info: ExperimentInfo = call(ctx, "tracking.create_experiment", name=name)
    return {"experiment_id": experiment_json(info)["experiment_id"]}


def get_experiment(ctx: RequestContext, request: MlflowRequest) -> Json:
    name = experiment_named(ctx.platform, request.text("experiment_id"))
    return {"experiment": experiment_json(call(ctx, "tracking.get_experiment", name=name))}


def get_experiment_by_name(ctx: RequestContext, request: MlflowRequest) -> Json:
    name = request.text("experiment_name")
    return {"experiment": experiment_json(call(ctx, "tracking.get_experiment", name=name))}


def search_experiments(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Every experiment, by name; a filter or an order other than the default is refused."""
    if request.text("filter", required=False):
        raise InvalidInput("filters on experiments are not supported yet", field="filter")
    if request.strings("order_by"):
        raise InvalidInput("experiments are listed by name only", field="order_by")
    size = page_size(request.integer("max_results"), default=1000)
    # MLflow's page token is opaque: Shipyard's keyset token, a page of at most MAX_LIMIT
    # (a client follows next_page_token, as MLflow allows a short page)
    found: Page[ExperimentInfo] = call(
        ctx,
        "tracking.list_experiments",
        limit=min(size, MAX_LIMIT),
        page_token=request.text("page_token", required=False) or None,
    )
    result: Json = {"experiments": [experiment_json(e) for e in found.items]}
    if found.next_page_token:
        result["next_page_token"] = found.next_page_token
    return result


ROUTES = (
    MlflowRoute(
        "POST",
        f"{PREFIX}/experiments/create",
        create_experiment,
        "tracking.create_experiment",
        conflict="RESOURCE_ALREADY_EXISTS",
    ),
    MlflowRoute("GET", f"{PREFIX}/experiments/get", get_experiment, "tracking.get_experiment"),
    MlflowRoute(
        "GET",
        f"{PREFIX}/experiments/get-by-name",
        get_experiment_by_name,
        "tracking.get_experiment",
    ),
    MlflowRoute(
        "POST", f"{PREFIX}/experiments/search", search_experiments, "tracking.list_experiments"
    ),
    MlflowRoute(
        "GET", f"{PREFIX}/experiments/search", search_experiments, "tracking.list_experiments"
    ),
)
