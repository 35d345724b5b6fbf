"""MLflow 3's logged models (``mlflow.<flavor>.log_model``) as part of the run that logs them.

A logged model named ``<name>`` of run ``R`` is the run's artifacts under ``<name>/`` and
a run tag ``mlflow.loggedModel.<name>`` holding its record (creation time, type, tags,
params, finalized status) as JSON; its id ``m-<R>-<hex name>`` names both. So every read is
``tracking.get_run`` or ``tracking.list_runs`` and every write ``tracking.log_batch`` or the
artifact proxy on that run: the same policies as the run's. A model is READY once its
``MLmodel`` file is stored (or when the client finalizes it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson

from shipyard.api._mlflow._convert import (
    LOGGED_MODEL_TAG,
    ExperimentIds,
    Json,
    experiment_named,
    logged_model_id,
    millis,
    model_artifact_root,
)
from shipyard.api._mlflow._paging import MAX_PAGE, offset_of, page, page_size
from shipyard.api._mlflow._request import MlflowRequest, run_id_of
from shipyard.api._mlflow._routes import PREFIX, MlflowRoute, call
from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.security import RequestContext
from shipyard.tracking import RunInfo

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_ID = re.compile(r"m-(?P<run>[0-9a-f]{32})-(?P<name>(?:[0-9a-f]{2}){1,100})")
_FILTER = re.compile(r"(?P<field>name|source_run_id)\s*=\s*(['\"])(?P<value>[^'\"]*)\2")
STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
VERSIONS_TAG = "mlflow.modelVersions"


def parse_model_id(model_id: str, *, field: str = "model_id") -> tuple[str, str]:
    """(run id, model name) of a logged model's id; NotFound for an id Shipyard never made."""
    found = _ID.fullmatch(model_id)
    name = ""
    if found is not None:
        try:
            name = bytes.fromhex(found["name"]).decode()
        except UnicodeDecodeError:
            name = ""
    if not _NAME.fullmatch(name) or found is None:
        raise NotFound(f"logged model {model_id!r} does not exist", field=field)
    return str(found["run"]), name


def _record(run: RunInfo, name: str) -> dict[str, Any] | None:
    stored = run.tags.get(LOGGED_MODEL_TAG + name)
    if stored is None:
        return None
    try:
        record = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _load(ctx: RequestContext, model_id: str) -> tuple[RunInfo, str, dict[str, Any]]:
    run_id, name = parse_model_id(model_id)
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id)
    record = _record(run, name)
    if record is None:
        raise NotFound(f"logged model {model_id!r} does not exist", field="model_id")
    return run, name, record


def _save(ctx: RequestContext, run_id: str, name: str, record: dict[str, Any]) -> None:
    tags = {LOGGED_MODEL_TAG + name: orjson.dumps(record).decode()}
    call(ctx, "tracking.log_batch", run_id=run_id, tags=tags)


def _pairs(values: dict[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in sorted(values.items())]


def model_json(run: RunInfo, name: str, record: dict[str, Any], experiment_id: str) -> Json:
    stored = any(a.path == f"{name}/MLmodel" for a in run.artifacts)
    status = record.get("status") or STATUSES[1 if stored else 0]
    return {
        "info": {
            "model_id": logged_model_id(run.id, name),
            "experiment_id": experiment_id,
            "name": name,
            "artifact_uri": model_artifact_root(experiment_id, logged_model_id(run.id, name)),
            "creation_timestamp_ms": record.get("created"),
            "last_updated_timestamp_ms": record.get("updated", record.get("created")),
            "model_type": record.get("model_type", ""),
            "source_run_id": run.id,
            "status": status,
            "tags": _pairs(record.get("tags", {})),
        },
        "data": {"params": _pairs(record.get("params", {})), "metrics": []},
    }


def _answer(ctx: RequestContext, model_id: str) -> Json:
    run, name, record = _load(ctx, model_id)
    return {"model": model_json(run, name, record, ExperimentIds(ctx.platform)(run.experiment))}


def create(ctx: RequestContext, request: MlflowRequest) -> Json:
    """A logged model of the source run (Shipyard keeps a model's files in a run)."""
    run_id = request.text("source_run_id", required=False)
    if not run_id:
        raise InvalidInput(
            "Shipyard keeps a logged model in the run that logs it: "
            "call log_model inside mlflow.start_run()",
            field="source_run_id",
        )
    name = request.text("name", required=False, default="model")
    if not _NAME.fullmatch(name):
        raise InvalidInput("must be 1 to 100 letters, digits, '_', '.' or '-'", field="name")
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id)
    experiment_id = ExperimentIds(ctx.platform)(run.experiment)
    wanted = request.text("experiment_id", required=False, default=experiment_id)
    if wanted != experiment_id:
        raise InvalidInput(f"run {run_id} is in experiment {experiment_id}", field="experiment_id")
    if _record(run, name) is not None:
        raise Conflict(f"run {run_id} already has a logged model named {name!r}", field="name")
    record: dict[str, Any] = {
        "created": millis(datetime.now(UTC)),
        "model_type": request.text("model_type", required=False),
        "tags": request.key_values("tags"),
        "params": request.key_values("params"),
    }
    _save(ctx, run_id, name, record)
    return _answer(ctx, logged_model_id(run_id, name))


def get(ctx: RequestContext, request: MlflowRequest) -> Json:
    return _answer(ctx, request.path.get("model_id", ""))


def _update(ctx: RequestContext, model_id: str, change: dict[str, Any]) -> None:
    run, name, record = _load(ctx, model_id)
    for key, value in change.items():
        record[key] = record.get(key, {}) | value if isinstance(value, dict) else value
    _save(ctx, run.id, name, record)


def finalize(ctx: RequestContext, request: MlflowRequest) -> Json:
    status = request.text("status")
    if status not in STATUSES:
        raise InvalidInput(f"must be one of {', '.join(STATUSES)}", field="status")
    _update(ctx, request.path.get("model_id", ""), {"status": status})
    return _answer(ctx, request.path.get("model_id", ""))


def set_tags(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Tags of a logged model; ``mlflow.modelVersions``, which the client sets after it
    registers one, is Shipyard's registry's to know (each version names its run)."""
    model_id = request.path.get("model_id", "")
    tags = {k: v for k, v in request.key_values("tags").items() if k != VERSIONS_TAG}
    if tags:
        _update(ctx, model_id, {"tags": tags})
    else:
        _load(ctx, model_id)
    return {}


def delete_tag(ctx: RequestContext, request: MlflowRequest) -> Json:
    model_id, key = request.path.get("model_id", ""), request.path.get("tag_key", "")
    run, name, record = _load(ctx, model_id)
    if key not in record.get("tags", {}):
        raise NotFound(f"logged model {model_id} has no tag {key!r}", field="tag_key")
    del record["tags"][key]
    _save(ctx, run.id, name, record)
    return {}


def log_params(ctx: RequestContext, request: MlflowRequest) -> Json:
    _update(ctx, request.path.get("model_id", ""), {"params": request.key_values("params")})
    return {}


def _filters(text: str) -> dict[str, str]:
    """``name = '<name>'`` and ``source_run_id = '<id>'``, joined by AND; nothing else yet."""
    wanted: dict[str, str] = {}
    for clause in re.split(r"\s+(?i:and)\s+", text.strip()) if text.strip() else []:
        found = _FILTER.fullmatch(clause.strip())
        if found is None:
            raise InvalidInput(
                "only name = '<name>' and source_run_id = '<run id>' are supported yet",
                field="filter",
            )
        wanted[found["field"]] = found["value"]
    return wanted


def search(ctx: RequestContext, request: MlflowRequest) -> Json:
    """The logged models of the runs of some experiments, newest first."""
    experiments = [
        experiment_named(ctx.platform, e, field="experiment_ids")
        for e in request.strings("experiment_ids")
    ]
    if not experiments:
        raise InvalidInput("name one or more experiments", field="experiment_ids")
    if request.objects("order_by"):
        raise InvalidInput("logged models are ordered newest first only", field="order_by")
    wanted = _filters(request.text("filter", required=False))
    size = page_size(request.integer("max_results"), default=100)
    ids = ExperimentIds(ctx.platform)
    found: list[Json] = []
    for experiment in experiments:
        for run in call(ctx, "tracking.list_runs", experiment=experiment, limit=MAX_PAGE):
            if wanted.get("source_run_id", run.id) != run.id:
                continue
            for key in run.tags:
                name = key.removeprefix(LOGGED_MODEL_TAG)
                record = _record(run, name) if key.startswith(LOGGED_MODEL_TAG) else None
                if record is not None and wanted.get("name", name) == name:
                    found.append(model_json(run, name, record, ids(run.experiment)))
    found.sort(key=lambda m: m["info"]["creation_timestamp_ms"] or 0, reverse=True)
    chunk, token = page(found, offset_of(request.text("page_token", required=False)), size)
    result: Json = {"models": chunk}
    if token:
        result["next_page_token"] = token
    return result


def log_outputs(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Links a run to models it logged: implied by their ids, so only checked here."""
    run_id = run_id_of(request)
    for i, output in enumerate(request.objects("models")):
        model_id = output.text("model_id")
        if parse_model_id(model_id, field=f"models.{i}.model_id")[0] != run_id:
            raise InvalidInput(f"was not logged by run {run_id}", field=f"models.{i}.model_id")
    call(ctx, "tracking.log_batch", run_id=run_id)
    return {}


_MODELS = f"{PREFIX}/logged-models"
ROUTES = (
    MlflowRoute("POST", _MODELS, create, "tracking.log_batch", conflict="RESOURCE_ALREADY_EXISTS"),
    MlflowRoute("POST", f"{_MODELS}/search", search, "tracking.list_runs"),
    MlflowRoute("GET", f"{_MODELS}/{{model_id}}", get, "tracking.get_run"),
    MlflowRoute("PATCH", f"{_MODELS}/{{model_id}}", finalize, "tracking.log_batch"),
    MlflowRoute("PATCH", f"{_MODELS}/{{model_id}}/tags", set_tags, "tracking.log_batch"),
    MlflowRoute(
        "DELETE", f"{_MODELS}/{{model_id}}/tags/{{tag_key:path}}", delete_tag, "tracking.log_batch"
    ),
    MlflowRoute("POST", f"{_MODELS}/{{model_id}}/params", log_params, "tracking.log_batch"),
    MlflowRoute("POST", f"{PREFIX}/runs/outputs", log_outputs, "tracking.log_batch"),
)
