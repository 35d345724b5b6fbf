"""Bad input gets a 4xx that names the field, and stores nothing (REST and the SDK)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer

from shipyard.client import Client
from shipyard.errors import InvalidInput


@pytest.fixture
def http(api_server: LiveServer, admin_key: str) -> Any:
    with httpx.Client(
        base_url=api_server.url, headers={"Authorization": f"Bearer {admin_key}"}
    ) as c:
        yield c


def _refused(response: httpx.Response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field, response.text


def test_integers_past_int64_are_refused(http: httpx.Client) -> None:
    for value in ("99999999999999999999", str(2**63), str(-(2**63) - 1)):
        _refused(http.get("/api/v1/datasets/bc", params={"version": value}), "version")
    _refused(http.get("/api/v1/audit", params={"limit": "1" + "0" * 30}), "limit")
    # versions and report ids are 32-bit columns: PostgreSQL refuses more even to compare
    _refused(http.get("/api/v1/datasets/bc", params={"version": str(2**31)}), "version")
    _refused(http.get(f"/api/v1/validations/{2**40}"), "report_id")
    _refused(http.put("/api/v1/models/m/aliases/champion", json={"version": 2**63}), "version")
    _refused(http.get("/api/v1/model-versions/m@99999999999999999999"), "ref")
    _refused(http.get("/api/v1/model-versions/m@²"), "ref")
    logged = http.post("/api/v1/runs", json={"experiment": "ints"}).json()
    batch = {"metrics": [{"key": "loss", "value": 1.0, "step": 2**63}]}
    _refused(http.post(f"/api/v1/runs/{logged['id']}/log", json=batch), "metrics.0.step")
    assert http.get(f"/api/v1/runs/{logged['id']}").json()["metrics"] == {}


@pytest.mark.parametrize("since", ["1e23", "inf", "nan", "-5", "0", str(11 * 365 * 86_400)])
def test_absurd_or_non_finite_since_seconds_are_refused(http: httpx.Client, since: str) -> None:
    compare = http.get("/api/v1/endpoints/e/compare", params={"since_seconds": since})
    _refused(compare, "since_seconds")


def test_names_ending_in_a_newline_or_too_long_are_refused(http: httpx.Client) -> None:
    for name in ("exp\n", "exp\r\n", "a" * 101, "exp\x00"):
        _refused(http.post("/api/v1/experiments", json={"name": name}), "name")
    assert http.post("/api/v1/experiments", json={"name": "a" * 100}).status_code == 201
    assert [e["name"] for e in http.get("/api/v1/experiments").json()["items"]] == ["a" * 100]
    _refused(http.put("/api/v1/models/m/aliases/champ%0A", json={"version": 1}), "alias")
    _refused(http.put(f"/api/v1/models/m/aliases/{'c' * 51}", json={"version": 1}), "alias")
    ingest = http.post(
        "/api/v1/datasets/bc%0A/versions", params={"filename": "x.csv"}, content=b"a\n1\n"
    )
    _refused(ingest, "name")
    assert http.get("/api/v1/datasets").json()["items"] == []


BAD_PATHS = [".", "a/./b", "..", "a/../b", "/abs", "a//b", "a/", "a\\b", "a\x00b", "a\n", ""]


def test_artifact_paths_that_are_not_plain_relative_paths_are_refused(http: httpx.Client) -> None:
    run_id = http.post("/api/v1/runs", json={"experiment": "paths"}).json()["id"]
    for path in BAD_PATHS:
        put = http.put(f"/api/v1/runs/{run_id}/artifacts", params={"path": path}, content=b"x")
        _refused(put, "path")
        _refused(http.get(f"/api/v1/runs/{run_id}/artifact", params={"path": path}), "path")
    assert http.get(f"/api/v1/runs/{run_id}").json()["artifacts"] == []
    ok = http.put(f"/api/v1/runs/{run_id}/artifacts", params={"path": "a/b.c"}, content=b"x")
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tolerance": 0.5}, "tolerance"),
        ({"tolerance": 1e308}, "tolerance"),
        ({"tolerance": 0}, "tolerance"),
        ({"tolerance": None}, "tolerance"),
        ({"quantized_tolerance": 2}, "quantized_tolerance"),
    ],
)
def test_export_tolerances_that_disable_the_parity_check_are_refused(
    http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    _refused(http.post("/api/v1/model-versions/m@1/exports", json=body), field)


def test_the_sdk_refuses_the_same_input_in_process_and_over_http(client: Client) -> None:
    with pytest.raises(InvalidInput) as tolerance:
        client.edge.export("m@1", tolerance=math.nan)
    assert tolerance.value.field == "tolerance"
    with pytest.raises(InvalidInput) as since:
        client.endpoints.compare("e", since=1e23)
    assert since.value.field == "since_seconds"
    with pytest.raises(InvalidInput) as version:
        client.datasets.get(f"bc@{2**63}")
    assert version.value.field == "dataset"
    with pytest.raises(InvalidInput) as name:
        client.tracking.create_experiment("exp\n")
    assert name.value.field == "name"
    assert client.tracking.list_experiments() == []


def test_traffic_weights_too_large_to_share_out_are_refused(http: httpx.Client) -> None:
    weights = http.put("/api/v1/endpoints/e/weights", json={"weights": {"primary": 1e308}})
    _refused(weights, "weights.primary")
    variant = {"variant": "b", "model": "m@1", "weight": 1e308}
    _refused(http.post("/api/v1/endpoints/e/variants", json=variant), "weight")


def test_feature_sources_and_ttls_of_the_wrong_shape_are_refused(http: httpx.Client) -> None:
    sources = [{"view": "v", "features": [{"not": "a name"}, ["nor", "this"]]}]
    _refused(
        http.put("/api/v1/endpoints/e/features", json={"sources": sources}), "sources.0.features"
    )
    view = {
        "name": "v",
        "source": "bc@1",
        "entities": ["id"],
        "event_time": "ts",
        "features": ["x"],
        "ttl": 10**30,
    }
    refused = http.put("/api/v1/feature-views/v", json={"spec": view})
    assert refused.status_code == 400, refused.text
    assert "ttl" in (refused.json()["error"]["field"] or "") + refused.json()["error"]["message"]


def test_run_names_and_keys_longer_than_their_columns_are_refused(http: httpx.Client) -> None:
    _refused(http.post("/api/v1/runs", json={"experiment": "e", "name": "r" * 201}), "name")
    _refused(http.post("/api/v1/runs", json={"params": {"k" * 251: "v"}}), "params")
    run_id = http.post("/api/v1/runs", json={"experiment": "e"}).json()["id"]
    batch = {"metrics": [{"key": "m" * 251, "value": 1.0}], "tags": {"t": "x" * 10_000}}
    _refused(http.post(f"/api/v1/runs/{run_id}/log", json=batch), "metrics.0.key")
    assert [r["id"] for r in http.get("/api/v1/runs", params={"experiment": "e"}).json()] == [
        run_id
    ]
