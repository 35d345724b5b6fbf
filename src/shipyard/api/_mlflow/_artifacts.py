"""MLflow's artifact routes: the artifact proxy (``mlflow-artifacts``) and ``artifacts/list``.

A run's artifact root is ``mlflow-artifacts:/<experiment id>/<run id>/artifacts``, so the
client puts, gets and lists ``<experiment id>/<run id>/artifacts/<path>`` under
``/api/2.0/mlflow-artifacts/artifacts``; paths below the root are a run's artifact paths.
The run id decides which run (and so which policies apply); the experiment id is the one
the run's ``artifact_uri`` gave. A logged model's files are its run's, under the model's
name, at ``<experiment id>/models/<model id>/artifacts/<path>`` (MLflow's own layout).
"""

from __future__ import annotations

import mimetypes

from fastapi import Response

from shipyard.api._mlflow._convert import LOGGED_MODEL_TAG, ExperimentIds, Json, artifact_root
from shipyard.api._mlflow._logged_models import parse_model_id
from shipyard.api._mlflow._request import MlflowRequest, run_id_of
from shipyard.api._mlflow._routes import ARTIFACTS_PREFIX, PREFIX, MlflowRoute, call
from shipyard.errors import InvalidInput
from shipyard.security import RequestContext
from shipyard.tracking import ArtifactInfo, RunInfo


def split_proxy_path(location: str, *, field: str = "path") -> tuple[str, str, str]:
    """``<experiment id>/<run id>/artifacts[/<path>]`` as (experiment id, run id, path);
    ``<experiment id>/models/<model id>/artifacts[/<path>]`` is ``<name>/<path>`` of the
    logged model's run."""
    in_model = location.strip("/").split("/", 4)
    if len(in_model) >= 4 and in_model[1] == "models" and in_model[3] == "artifacts":
        run_id, name = parse_model_id(in_model[2], field=field)
        below = in_model[4] if len(in_model) == 5 else ""
        return in_model[0], run_id, f"{name}/{below}".rstrip("/")
    parts = location.strip("/").split("/", 3)
    if len(parts) < 3 or parts[2] != "artifacts" or not parts[0].isdigit() or not parts[1]:
        raise InvalidInput(
            "must be <experiment id>/<run id>/artifacts/<path> (a run's artifact root)",
            field=field,
        )
    return parts[0], parts[1], parts[3] if len(parts) == 4 else ""


def _file_path(location: str) -> tuple[str, str]:
    _, run_id, path = split_proxy_path(location)
    if not path:
        raise InvalidInput("names the artifact root, not a file", field="path")
    return run_id, path


def upload_arguments(path_params: dict[str, str]) -> dict[str, str]:
    """The arguments of ``tracking.log_artifact`` an upload's path gives (checked first)."""
    run_id, path = _file_path(path_params.get("artifact_path", ""))
    return {"run_id": run_id, "path": path}


def upload(ctx: RequestContext, request: MlflowRequest) -> Json:
    arguments = upload_arguments(request.path)
    call(ctx, "tracking.log_artifact", content=request.content, **arguments)
    return {}


def download(ctx: RequestContext, request: MlflowRequest) -> Response:
    run_id, path = _file_path(request.path.get("artifact_path", ""))
    data: bytes = call(ctx, "tracking.get_artifact", run_id=run_id, path=path)
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return Response(data, media_type=media)


def entries(artifacts: list[ArtifactInfo], directory: str) -> list[tuple[str, bool, int]]:
    """The files and folders directly in ``directory``: (name, is folder, size)."""
    prefix = f"{directory.strip('/')}/" if directory.strip("/") else ""
    found: dict[str, tuple[bool, int]] = {}
    for artifact in artifacts:
        if not artifact.path.startswith(prefix):
            continue
        name, _, rest = artifact.path[len(prefix) :].partition("/")
        found[name] = (True, 0) if rest else (False, artifact.size_bytes)
    return sorted((name, folder, size) for name, (folder, size) in found.items())


def _files(names: list[tuple[str, bool, int]], under: str) -> list[Json]:
    return [
        {"path": f"{under}{name}", "is_dir": True}
        if folder
        else {"path": f"{under}{name}", "is_dir": False, "file_size": size}
        for name, folder, size in names
    ]


def run_files(run: RunInfo) -> list[ArtifactInfo]:
    """A run's own files: a logged model's folder is the model's (the MLflow client lists
    a run's artifacts and then its models', so it would otherwise see those files twice)."""
    models = {k.removeprefix(LOGGED_MODEL_TAG) for k in run.tags if k.startswith(LOGGED_MODEL_TAG)}
    return [a for a in run.artifacts if a.path.split("/", 1)[0] not in models]


def list_proxy(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Names relative to the listed folder, as MLflow's artifact proxy answers."""
    location = request.text("path")
    _, run_id, path = split_proxy_path(location)
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id)
    in_model = location.strip("/").split("/")[1:2] == ["models"]
    return {"files": _files(entries(run.artifacts if in_model else run_files(run), path), "")}


def list_run_artifacts(ctx: RequestContext, request: MlflowRequest) -> Json:
    """Paths relative to the run's artifact root, as MLflow's ``artifacts/list`` answers."""
    run: RunInfo = call(ctx, "tracking.get_run", run_id=run_id_of(request))
    path = request.text("path", required=False).strip("/")
    root = artifact_root(ExperimentIds(ctx.platform)(run.experiment), run.id)
    return {
        "root_uri": root,
        "files": _files(entries(run_files(run), path), f"{path}/" if path else ""),
    }


ROUTES = (
    MlflowRoute(
        "PUT",
        f"{ARTIFACTS_PREFIX}/artifacts/{{artifact_path:path}}",
        upload,
        "tracking.log_artifact",
        early=upload_arguments,
    ),
    MlflowRoute(
        "GET",
        f"{ARTIFACTS_PREFIX}/artifacts/{{artifact_path:path}}",
        download,
        "tracking.get_artifact",
    ),
    MlflowRoute("GET", f"{ARTIFACTS_PREFIX}/artifacts", list_proxy, "tracking.get_run"),
    MlflowRoute("GET", f"{PREFIX}/artifacts/list", list_run_artifacts, "tracking.get_run"),
)
