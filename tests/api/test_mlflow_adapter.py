"""MLflow's REST API on the control plane, request by request: JSON, codes and statuses.

The official client's end-to-end test is test_mlflow_client.py; these pin what it does
not reach: each bad input is a 400 INVALID_PARAMETER_VALUE naming the field, each
missing resource a 404 RESOURCE_DOES_NOT_EXIST, and a principal without the action
learns nothing about its request's shape (403 PERMISSION_DENIED first).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer

from shipyard.api import MLFLOW_ROUTES
from shipyard.platform import Platform
from shipyard.security import context_for, create_api_key, create_principal

API = "/api/2.0/mlflow"


@pytest.fixture
def http(api_server: LiveServer, admin_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=api_server.url, headers=headers, timeout=30) as client:
        yield client


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: httpx.Response, status: int, code: str, *words: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    for word in words:
        assert word in body["message"], body
    return str(body["message"])


def _run(http: httpx.Client, experiment: str = "adapter") -> str:
    experiment_id = _ok(http.post(f"{API}/experiments/create", json={"name": experiment}))
    run = _ok(http.post(f"{API}/runs/create", json=experiment_id | {"run_name": "r"}))
    return str(run["run"]["info"]["run_id"])


def test_experiments_map_to_stable_string_ids(http: httpx.Client) -> None:
    created = _ok(http.post(f"{API}/experiments/create", json={"name": "ids"}))["experiment_id"]
    assert created.isdigit() and created != "0"
    by_id = _ok(http.get(f"{API}/experiments/get", params={"experiment_id": created}))
    by_name = _ok(http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "ids"}))
    assert by_id == by_name
    assert by_id["experiment"]["artifact_location"] == f"mlflow-artifacts:/{created}"
    listed = _ok(http.post(f"{API}/experiments/search", json={"max_results": 10}))
    assert [e["experiment_id"] for e in listed["experiments"]] == [created]
    # the MLflow default experiment "0" is Shipyard's "default", made on first use
    run = _ok(http.post(f"{API}/runs/create", json={"experiment_id": "0"}))["run"]
    assert run["info"]["experiment_id"] == "0"
    default = _ok(http.get(f"{API}/experiments/get", params={"experiment_id": "0"}))
    assert default["experiment"]["name"] == "default"


def test_bad_input_is_a_400_naming_the_field(http: httpx.Client) -> None:
    run_id = _run(http)
    bad_json = http.post(f"{API}/runs/log-batch", content=b"{not json")
    _error(bad_json, 400, "INVALID_PARAMETER_VALUE", "body", "malformed JSON")
    not_object = http.post(f"{API}/runs/log-batch", json=[1, 2])
    _error(not_object, 400, "INVALID_PARAMETER_VALUE", "body")
    bad_value = {"run_id": run_id, "metrics": [{"key": "m", "value": "high", "timestamp": 1}]}
    _error(
        http.post(f"{API}/runs/log-batch", json=bad_value),
        400,
        "INVALID_PARAMETER_VALUE",
        "metrics.0.value",
    )
    bad_step = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 1.5}
    _refused(http.post(f"{API}/runs/log-metric", json=bad_step), "step")
    bad_tag = {"run_id": run_id, "tags": [{"value": "no key"}]}
    _error(
        http.post(f"{API}/runs/log-batch", json=bad_tag),
        400,
        "INVALID_PARAMETER_VALUE",
        "tags.0.key",
    )
    _error(
        http.post(f"{API}/runs/create", json={"experiment_id": "x1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "experiment_id",
    )
    _error(http.get(f"{API}/runs/get"), 400, "INVALID_PARAMETER_VALUE", "run_id")
    infinite = {"run_id": run_id, "key": "m", "value": "Infinity", "timestamp": 1}
    _error(http.post(f"{API}/runs/log-metric", json=infinite), 400, "INVALID_PARAMETER_VALUE")
    search = {"experiment_ids": ["0"], "filter": "metrics.auc >> 0.5"}
    _refused(http.post(f"{API}/runs/search", json=search), "filter")
    token = {"run_id": run_id, "metric_key": "m", "page_token": "garbage"}
    _error(
        http.get(f"{API}/metrics/get-history", params=token),
        400,
        "INVALID_PARAMETER_VALUE",
        "page_token",
    )
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert run["data"] == {
        "metrics": [],
        "params": [],
        "tags": [{"key": "mlflow.runName", "value": "r"}],
    }


def test_missing_and_clashing_resources(http: httpx.Client) -> None:
    run_id = _run(http)
    _error(http.get(f"{API}/runs/get", params={"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(
        http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _error(
        http.get(f"{API}/experiments/get", params={"experiment_id": "999"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    again = http.post(f"{API}/experiments/create", json={"name": "adapter"})
    _error(again, 400, "RESOURCE_ALREADY_EXISTS", "already exists")
    _ok(http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "a", "value": "1"}))
    changed = http.post(
        f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "a", "value": "2"}
    )
    _error(changed, 400, "INVALID_PARAMETER_VALUE", "params cannot change")
    _error(
        http.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "absent"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    _error(
        http.post(f"{API}/registered-models/create", json={"name": "bad name!"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "name",
    )
    _ok(http.post(f"{API}/registered-models/create", json={"name": "twice"}))
    _error(
        http.post(f"{API}/registered-models/create", json={"name": "twice"}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    by_run = http.get(f"{API}/model-versions/search", params={"filter": f"run_id = '{run_id}'"})
    _error(by_run, 400, "INVALID_PARAMETER_VALUE", "filter")
    none_yet = http.get(f"{API}/model-versions/search", params={"filter": "name = 'twice'"})
    assert _ok(none_yet) == {"model_versions": []}
    other_folder = {"name": "twice", "source": f"runs:/{run_id}/weights", "run_id": run_id}
    _error(
        http.post(f"{API}/model-versions/create", json=other_folder),
        400,
        "INVALID_PARAMETER_VALUE",
        "source",
        "'model' folder",
    )


def test_what_shipyard_does_not_implement_is_named_in_mlflow_terms(http: httpx.Client) -> None:
    run_id = _run(http)
    deleted = http.post(f"{API}/experiments/delete", json={"experiment_id": "1"})
    _error(deleted, 404, "ENDPOINT_NOT_FOUND", "does not implement", "/experiments/delete")
    wrong_method = http.get(f"{API}/runs/create")
    _error(wrong_method, 405, "ENDPOINT_NOT_FOUND", "method")
    assert _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["info"]["status"]


def test_update_ends_a_run_and_logs_stop(http: httpx.Client) -> None:
    run_id = _run(http)
    metric = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1_700_000_000_000}
    _ok(http.post(f"{API}/runs/log-metric", json=metric | {"step": 3}))
    info = _ok(http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FAILED"}))
    assert info["run_info"]["status"] == "FAILED" and info["run_info"]["end_time"] > 0
    history = _ok(
        http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"})
    )
    assert history["metrics"] == [
        {"key": "loss", "value": 0.5, "timestamp": 1_700_000_000_000, "step": 3}
    ]
    renamed = http.post(f"{API}/runs/update", json={"run_id": run_id, "run_name": "other"})
    _error(renamed, 400, "INVALID_PARAMETER_VALUE", "run_name")
    late = http.post(f"{API}/runs/log-metric", json=metric)
    _error(late, 400, "INVALID_PARAMETER_VALUE", "failed")
    _error(
        http.post(f"{API}/runs/update", json={"run_id": run_id, "status": "DONE"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "status",
    )


def test_history_and_runs_come_a_page_at_a_time(http: httpx.Client) -> None:
    run_id = _run(http)
    points = [{"key": "m", "value": float(i), "timestamp": 1000 + i, "step": i} for i in range(5)]
    _ok(http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points}))
    seen: list[float] = []
    params: dict[str, Any] = {"run_id": run_id, "metric_key": "m", "max_results": 2}
    while True:
        page = _ok(http.get(f"{API}/metrics/get-history", params=params))
        seen += [m["value"] for m in page["metrics"]]
        if "next_page_token" not in page:
            break
        params["page_token"] = page["next_page_token"]
    assert seen == [0.0, 1.0, 2.0, 3.0, 4.0]
    experiment = _ok(
        http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "adapter"})
    )
    experiment_id = experiment["experiment"]["experiment_id"]
    for _ in range(2):
        _ok(http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))
    ids: list[str] = []
    body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 2}
    while True:
        page = _ok(http.post(f"{API}/runs/search", json=body))
        ids += [r["info"]["run_id"] for r in page["runs"]]
        if "next_page_token" not in page:
            break
        body["page_token"] = page["next_page_token"]
    assert len(ids) == len(set(ids)) == 3 and ids[-1] == run_id


def test_artifacts_go_through_the_proxy_and_paths_are_contained(http: httpx.Client) -> None:
    run_id = _run(http)
    info = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["info"]
    root = info["artifact_uri"].removeprefix("mlflow-artifacts:/")
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    _ok(http.put(f"{proxy}/{root}/plots/a.txt", content=b"alpha"))
    _ok(http.put(f"{proxy}/{root}/b.txt", content=b"beta"))
    assert http.get(f"{proxy}/{root}/plots/a.txt").content == b"alpha"
    listed = _ok(http.get(proxy, params={"path": root}))
    assert listed["files"] == [
        {"path": "b.txt", "is_dir": False, "file_size": 4},
        {"path": "plots", "is_dir": True},
    ]
    below = _ok(http.get(f"{API}/artifacts/list", params={"run_id": run_id, "path": "plots"}))
    assert below["files"] == [{"path": "plots/a.txt", "is_dir": False, "file_size": 5}]
    assert below["root_uri"] == info["artifact_uri"]
    escape = http.put(f"{proxy}/{root}/%2E%2E/%2E%2E/escape.txt", content=b"x")
    _error(escape, 400, "INVALID_PARAMETER_VALUE", "path")
    _error(
        http.put(f"{proxy}/not-a-run-root", content=b"x"), 400, "INVALID_PARAMETER_VALUE", "path"
    )
    _error(http.get(f"{proxy}/{root}/missing.txt"), 404, "RESOURCE_DOES_NOT_EXIST")
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))
    assert run["run"]["info"]["artifact_uri"] == info["artifact_uri"]


def _refused(response: httpx.Response, field: str) -> None:
    _error(response, 400, "INVALID_PARAMETER_VALUE", field)


def test_runs_are_deleted_softly_and_restored(http: httpx.Client) -> None:
    run_id = _run(http)
    experiment_id = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["info"][
        "experiment_id"
    ]

    def searched(view: str | None = None) -> list[str]:
        body: dict[str, Any] = {"experiment_ids": [experiment_id]}
        if view is not None:
            body["run_view_type"] = view
        runs = _ok(http.post(f"{API}/runs/search", json=body)).get("runs", [])
        return [r["info"]["run_id"] for r in runs]

    _ok(http.post(f"{API}/runs/delete", json={"run_id": run_id}))
    _ok(http.post(f"{API}/runs/delete", json={"run_id": run_id}))  # again: no change
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert run["info"]["lifecycle_stage"] == "deleted"
    assert searched() == searched("ACTIVE_ONLY") == []
    assert searched("DELETED_ONLY") == searched("ALL") == [run_id]
    _refused(
        http.post(
            f"{API}/runs/search", json={"experiment_ids": [experiment_id], "run_view_type": "SOME"}
        ),
        "run_view_type",
    )
    _ok(http.post(f"{API}/runs/restore", json={"run_id": run_id}))
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert run["info"]["lifecycle_stage"] == "active"
    assert searched() == [run_id] and searched("DELETED_ONLY") == []
    missing = http.post(f"{API}/runs/delete", json={"run_id": "0" * 32})
    _error(missing, 404, "RESOURCE_DOES_NOT_EXIST", "run_id")


def test_logged_models_live_in_their_run(http: httpx.Client) -> None:
    """MLflow 3's logged models: a run's folder and a run tag; ids name both."""
    run_id = _run(http)
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    experiment_id = run["info"]["experiment_id"]
    body = {
        "experiment_id": experiment_id,
        "name": "clf",
        "source_run_id": run_id,
        "model_type": "classifier",
        "tags": [{"key": "team", "value": "a"}],
        "params": [{"key": "alpha", "value": "1"}],
    }
    model = _ok(http.post(f"{API}/logged-models", json=body))["model"]
    model_id = model["info"]["model_id"]
    assert model_id == f"m-{run_id}-{b'clf'.hex()}"
    assert model["info"]["status"] == "LOGGED_MODEL_PENDING"
    root = f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    assert model["info"]["artifact_uri"] == root
    assert model["data"]["params"] == [{"key": "alpha", "value": "1"}]
    again = http.post(f"{API}/logged-models", json=body)
    _error(again, 400, "RESOURCE_ALREADY_EXISTS", "name", "clf")

    # its files are the run's, under its name; listed once, as the model's
    proxy = f"/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/models/{model_id}/artifacts"
    _ok(http.put(f"{proxy}/MLmodel", content=b"flavors: {}"))
    assert http.get(f"{proxy}/MLmodel").content == b"flavors: {}"
    in_model = {"path": f"{experiment_id}/models/{model_id}/artifacts"}
    listed = _ok(http.get("/api/2.0/mlflow-artifacts/artifacts", params=in_model))["files"]
    assert [f["path"] for f in listed] == ["MLmodel"]
    in_run = {"path": f"{experiment_id}/{run_id}/artifacts"}
    assert _ok(http.get("/api/2.0/mlflow-artifacts/artifacts", params=in_run)) == {"files": []}
    got = _ok(http.get(f"{API}/logged-models/{model_id}"))["model"]
    assert got["info"]["status"] == "LOGGED_MODEL_READY"

    tags = {"tags": [{"key": "stage", "value": "dev"}]}
    _ok(http.patch(f"{API}/logged-models/{model_id}/tags", json=tags))
    _ok(http.delete(f"{API}/logged-models/{model_id}/tags/team"))
    params = {"params": [{"key": "beta", "value": "2"}]}
    _ok(http.post(f"{API}/logged-models/{model_id}/params", json=params))
    status = {"model_id": model_id, "status": "LOGGED_MODEL_UPLOAD_FAILED"}
    finalized = _ok(http.patch(f"{API}/logged-models/{model_id}", json=status))["model"]
    assert finalized["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"
    assert finalized["info"]["tags"] == [{"key": "stage", "value": "dev"}]
    assert [p["key"] for p in finalized["data"]["params"]] == ["alpha", "beta"]
    outputs = {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}
    _ok(http.post(f"{API}/runs/outputs", json=outputs))
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert run["outputs"]["model_outputs"] == [{"model_id": model_id, "step": 0}]

    # registered from its location too; Shipyard registers a run's "model" folder only
    _ok(http.post(f"{API}/registered-models/create", json={"name": "clf-model"}))
    for source in (f"models:/{model_id}", root):
        version = {"name": "clf-model", "source": source}
        refused = http.post(f"{API}/model-versions/create", json=version)
        _error(refused, 400, "INVALID_PARAMETER_VALUE", "source", "'model' folder", "'clf'")

    search = {"experiment_ids": [experiment_id], "filter": "name = 'clf'"}
    found = _ok(http.post(f"{API}/logged-models/search", json=search))["models"]
    assert [m["info"]["model_id"] for m in found] == [model_id]
    other = {"experiment_ids": [experiment_id], "filter": "name = 'other'"}
    assert _ok(http.post(f"{API}/logged-models/search", json=other)) == {"models": []}

    # a refused model leaves nothing behind
    outside = body | {"source_run_id": "", "name": "free"}
    _error(
        http.post(f"{API}/logged-models", json=outside),
        400,
        "INVALID_PARAMETER_VALUE",
        "source_run_id",
    )
    bad_name = body | {"name": "a/b"}
    _refused(http.post(f"{API}/logged-models", json=bad_name), "name")
    elsewhere = body | {"name": "x", "experiment_id": "0"}
    _error(
        http.post(f"{API}/logged-models", json=elsewhere),
        400,
        "INVALID_PARAMETER_VALUE",
        "experiment_id",
    )
    filtered = search | {"filter": "metrics.auc > 1"}
    _error(
        http.post(f"{API}/logged-models/search", json=filtered),
        400,
        "INVALID_PARAMETER_VALUE",
        "filter",
    )
    unknown = http.get(f"{API}/logged-models/m-{'0' * 32}-6d")
    _error(unknown, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist")
    not_ours = {"run_id": _run(http, "other"), "models": [{"model_id": model_id}]}
    _error(
        http.post(f"{API}/runs/outputs", json=not_ours),
        400,
        "INVALID_PARAMETER_VALUE",
        "models.0.model_id",
    )
    found = _ok(http.post(f"{API}/logged-models/search", json={"experiment_ids": [experiment_id]}))
    assert [m["info"]["name"] for m in found["models"]] == ["clf"]


def test_a_principal_without_the_action_learns_nothing_about_its_request(
    platform: Platform, api_server: LiveServer, http: httpx.Client
) -> None:
    run_id = _run(http)
    admin = context_for(platform, "admin")
    create_principal(admin, "stranger")
    token = create_api_key(admin, "stranger").token
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_server.url, headers=headers) as stranger:
        malformed = stranger.post(f"{API}/runs/log-batch", content=b"{not json")
        _error(malformed, 403, "PERMISSION_DENIED")
        unknown = stranger.get(f"{API}/experiments/get", params={"experiment_id": "999"})
        _error(unknown, 403, "PERMISSION_DENIED")
        _error(stranger.get(f"{API}/runs/get", params={"run_id": run_id}), 403, "PERMISSION_DENIED")
        model = stranger.get(f"{API}/logged-models/m-{run_id}-{b'model'.hex()}")
        _error(model, 403, "PERMISSION_DENIED")
        create = {"source_run_id": run_id, "name": "mine"}
        _error(stranger.post(f"{API}/logged-models", json=create), 403, "PERMISSION_DENIED")
        upload = stranger.put(
            f"/api/2.0/mlflow-artifacts/artifacts/1/{run_id}/artifacts/x.txt", content=b"x"
        )
        _error(upload, 403, "PERMISSION_DENIED")
    anonymous = httpx.get(f"{api_server.url}{API}/runs/get", params={"run_id": run_id})
    _error(anonymous, 401, "UNAUTHENTICATED")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    run = _ok(http.get(f"{API}/runs/get", params={"run_id": run_id}))
    assert run["run"]["data"]["metrics"] == []


ODD_VALUES: list[Any] = [
    None,
    -1,
    1.5,
    True,
    "",
    "x" * 300,
    "../../etc",
    [],
    ["a"],
    [{}],
    {},
    2**70,
]
FIELDS = (
    "run_id",
    "experiment_id",
    "experiment_ids",
    "experiment_name",
    "name",
    "key",
    "value",
    "metric_key",
    "max_results",
    "page_token",
    "metrics",
    "params",
    "tags",
    "status",
    "source",
    "version",
    "alias",
    "path",
    "filter",
    "order_by",
    "stages",
    "source_run_id",
    "model_type",
    "models",
    "model_id",
    "run_view_type",
)


def test_odd_values_in_every_field_never_fail_the_server(http: httpx.Client) -> None:
    """Every MLflow route, each field at once set to odd values: never a 5xx, and every
    refusal in MLflow's error document."""
    _run(http)
    for route in MLFLOW_ROUTES:
        path = (
            route.path.replace("{artifact_path:path}", "1/run/artifacts/x")
            .replace("{model_id}", f"m-{'0' * 32}-6d")
            .replace("{tag_key:path}", "k")
        )
        for value in ODD_VALUES:
            body = dict.fromkeys(FIELDS, value)
            if route.method in ("GET", "DELETE"):
                scalar = value if isinstance(value, str | int | float) else str(value)
                response = http.request(route.method, path, params=dict.fromkeys(FIELDS, scalar))
            elif route.early is not None:
                response = http.request(route.method, path, content=json.dumps(body).encode())
            else:
                response = http.request(route.method, path, json=body)
            assert response.status_code < 500, (route.path, value, response.text)
            if response.status_code >= 400:
                assert set(response.json()) == {"error_code", "message"}, (route.path, value)
