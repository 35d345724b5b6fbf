"""MLflow's registered-model and model-version routes over ``registry`` operations.

A version is registered from the ``model`` folder of a run's artifacts, where Shipyard's
registry reads a model (``model/model.bin`` in a safe format with ``model/meta.json``);
a pickle-based MLflow model there is refused first (``_pickled``), anything else by the
registry with its own message. A logged model (``models:/<id>``) is its run's folder.
Shipyard has no stages: every version is in stage "None", and the latest is the highest.
"""

from __future__ import annotations

import re

from shipyard.api._mlflow._convert import Json, model_json, version_json
from shipyard.api._mlflow._logged_models import parse_model_id
from shipyard.api._mlflow._paging import offset_of, page, page_size
from shipyard.api._mlflow._pickled import mlflow_format_refusal, pickle_refusal, pickled_files
from shipyard.api._mlflow._request import MlflowRequest
from shipyard.api._mlflow._routes import PREFIX, MlflowRoute, call
from shipyard.errors import InvalidInput
from shipyard.registry import ModelInfo, ModelVersionInfo
from shipyard.schemas.paging import MAX_LIMIT, Page
from shipyard.security import RequestContext
from shipyard.tracking import RunInfo

MODEL_FOLDER = "model"
_NAME_FILTER = re.compile(r"name\s*=\s*(['\"])(?P<name>[^'\"]+)\1")
_LOGGED_MODEL = re.compile(
    r"models:/(?P<id>[^/]+)|mlflow-artifacts:/\d+/models/(?P<at>[^/]+)/artifacts"
)
_SOURCES = (
    re.compile(r"runs:/(?P<run>[^/]+)/(?P<path>.*)"),
    re.compile(r"mlflow-artifacts:/\d+/(?P<run>[^/]+)/artifacts/(?P<path>.*)"),
)


def _version_number(request: MlflowRequest) -> int:
    version = request.integer("version")
    if version is None:
        raise InvalidInput("missing value for required parameter 'version'", field="version")
    return version


def source_run(source: str, run_id: str) -> str:
    """The run whose ``model`` folder ``source`` names (``runs:/``, the artifact proxy, or
    ``models:/<id>`` of a logged model, which is a run's folder)."""
    logged = _LOGGED_MODEL.fullmatch(source.rstrip("/"))
    if logged is not None:
        found_run, name = parse_model_id(logged["id"] or logged["at"], field="source")
        source = f"runs:/{found_run}/{name}"
    for pattern in _SOURCES:
        found = pattern.fullmatch(source.rstrip("/"))
        if found is None:
            continue
        if found["path"] != MODEL_FOLDER:
            raise InvalidInput(
                f"Shipyard registers the {MODEL_FOLDER!r} folder of a run's artifacts; "
                f"{source!r} names {found['path']!r}",
                field="source",
            )
        if run_id and run_id != found["run"]:
            raise InvalidInput(f"names run {found['run']}, not run {run_id}", field="source")
        return str(found["run"])
    raise InvalidInput(
        f"must be runs:/<run id>/{MODEL_FOLDER}, that run's artifact location, "
        "or models:/<logged model id>",
        field="source",
    )


def create_model(ctx: RequestContext, request: MlflowRequest) -> Json:
    model: ModelInfo = call(ctx, "registry.create_model", name=request.text("name"))
    return {"registered_model": model_json(model)}


def get_model(ctx: RequestContext, request: MlflowRequest) -> Json:
    model: ModelInfo = call(ctx, "registry.get_model", name=request.text("name"))
    return {"registered_model": model_json(model)}


def search_models(ctx: RequestContext, request: MlflowRequest) -> Json:
    if request.text("filter", required=False).strip():
        raise InvalidInput("filters on registered models are not supported yet", field="filter")
    size = page_size(request.integer("max_results"), default=100)
    models: Page[ModelInfo] = call(
        ctx,
        "registry.list_models",
        limit=min(size, MAX_LIMIT),
        page_token=request.text("page_token", required=False) or None,
    )
    result: Json = {"registered_models": [model_json(m) for m in models.items]}
    if models.next_page_token:
        result["next_page_token"] = models.next_page_token
    return result


def create_version(ctx: RequestContext, request: MlflowRequest) -> Json:
    name = request.text("name")
    run_id = source_run(request.text("source"), request.text("run_id", required=False))
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id)
    paths = {a.path for a in run.artifacts}
    pickled = pickled_files(sorted(paths), MODEL_FOLDER)
    if pickled:
        raise pickle_refusal(run_id, MODEL_FOLDER, pickled)
    if f"{MODEL_FOLDER}/MLmodel" in paths and f"{MODEL_FOLDER}/model.bin" not in paths:
        raise mlflow_format_refusal(run_id, MODEL_FOLDER)
    version: ModelVersionInfo = call(ctx, "registry.register", name=name, run_id=run_id)
    return {"model_version": version_json(version)}


def search_versions(ctx: RequestContext, request: MlflowRequest) -> Json:
    """The versions of one model, newest first: the filter must be ``name = '<model>'``."""
    found = _NAME_FILTER.fullmatch(request.text("filter", required=False).strip())
    if found is None:
        raise InvalidInput("only name = '<model>' is supported yet", field="filter")
    size = page_size(request.integer("max_results"), default=10_000)
    model: ModelInfo = call(ctx, "registry.get_model", name=found["name"])
    versions = sorted(model.versions, key=lambda v: v.version, reverse=True)
    chunk, token = page(versions, offset_of(request.text("page_token", required=False)), size)
    result: Json = {"model_versions": [version_json(v) for v in chunk]}
    if token:
        result["next_page_token"] = token
    return result


def get_version(ctx: RequestContext, request: MlflowRequest) -> Json:
    ref = f"{request.text('name')}@{_version_number(request)}"
    return {"model_version": version_json(call(ctx, "registry.get_version", ref=ref))}


def latest_versions(ctx: RequestContext, request: MlflowRequest) -> Json:
    """The latest version (all are in stage "None"); none for a stage other than "None"."""
    stages = request.strings("stages")
    model: ModelInfo = call(ctx, "registry.get_model", name=request.text("name"))
    if stages and "None" not in stages:
        return {"model_versions": []}
    latest = [v for v in model.versions if v.version == model.latest_version]
    return {"model_versions": [version_json(v) for v in latest]}


def set_alias(ctx: RequestContext, request: MlflowRequest) -> Json:
    call(
        ctx,
        "registry.set_alias",
        name=request.text("name"),
        alias=request.text("alias"),
        version=_version_number(request),
    )
    return {}


def delete_alias(ctx: RequestContext, request: MlflowRequest) -> Json:
    call(ctx, "registry.delete_alias", name=request.text("name"), alias=request.text("alias"))
    return {}


def version_by_alias(ctx: RequestContext, request: MlflowRequest) -> Json:
    ref = f"{request.text('name')}@{request.text('alias')}"
    return {"model_version": version_json(call(ctx, "registry.get_version", ref=ref))}


_MODELS = f"{PREFIX}/registered-models"
ROUTES = (
    MlflowRoute(
        "POST",
        f"{_MODELS}/create",
        create_model,
        "registry.create_model",
        conflict="RESOURCE_ALREADY_EXISTS",
    ),
    MlflowRoute("GET", f"{_MODELS}/get", get_model, "registry.get_model"),
    MlflowRoute("GET", f"{_MODELS}/search", search_models, "registry.list_models"),
    MlflowRoute("POST", f"{_MODELS}/get-latest-versions", latest_versions, "registry.get_model"),
    MlflowRoute("GET", f"{_MODELS}/get-latest-versions", latest_versions, "registry.get_model"),
    MlflowRoute("POST", f"{_MODELS}/alias", set_alias, "registry.set_alias"),
    MlflowRoute("DELETE", f"{_MODELS}/alias", delete_alias, "registry.delete_alias"),
    MlflowRoute("GET", f"{_MODELS}/alias", version_by_alias, "registry.get_version"),
    MlflowRoute("POST", f"{PREFIX}/model-versions/create", create_version, "registry.register"),
    MlflowRoute("GET", f"{PREFIX}/model-versions/get", get_version, "registry.get_version"),
    MlflowRoute("GET", f"{PREFIX}/model-versions/search", search_versions, "registry.get_model"),
)
