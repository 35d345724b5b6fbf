"""Variants on the data plane: traffic split by weight, pinning, and who answered each request."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from dataplanekit import embedded, expected, register_three, rows, serving
from prometheus_client.parser import text_string_to_metric_families

from shipyard.client import Client
from shipyard.platform import Platform


def _create(platform: Platform, **kwargs: Any) -> None:
    with Client(settings=platform.settings) as client:
        client.endpoints.create("ab", **kwargs)


def test_weights_split_traffic_and_every_answer_names_its_variant(tmp_path: Path) -> None:
    with embedded(tmp_path) as platform:
        _split_pin_and_headers(platform)


def _split_pin_and_headers(platform: Platform) -> None:
    register_three(platform)
    _create(
        platform,
        variants=[
            {"name": "blue", "model": "bc-model@1", "weight": 3},
            {"name": "green", "model": "bc-model@2", "weight": 1},
            {"name": "dark", "model": "bc-model@3", "weight": 0},
        ],
    )
    requests = 240
    answers = {"1": expected(20, requests), "2": expected(3, requests)}
    inputs = rows(requests)
    with serving(platform, "ab") as served, served.client() as http:
        seen: Counter[str] = Counter()
        for i in range(requests):
            response = http.post("/invocations", json={"instances": [inputs[i]]})
            assert response.status_code == 200, response.text
            variant = response.headers["x-shipyard-variant"]
            version = response.headers["x-shipyard-model-version"]
            assert {"blue": "1", "green": "2"}[variant] == version
            assert response.headers["x-request-id"]
            assert np.isclose(response.json()["probabilities"][0][1], answers[version][i])
            seen[variant] += 1
        assert set(seen) == {"blue", "green"}
        assert 20 <= seen["green"] <= 110  # 25 % of 240, with a wide margin

        for name, version in (("green", "2"), ("dark", "3"), ("blue", "1")):
            for _ in range(5):
                pinned = http.post(
                    "/invocations",
                    json={"instances": rows(2)},
                    headers={"X-Shipyard-Variant": name, "X-Request-Id": "caller-id-7"},
                )
                assert pinned.status_code == 200
                assert pinned.headers["x-shipyard-variant"] == name
                assert pinned.headers["x-shipyard-model-version"] == version
                assert pinned.headers["x-request-id"] == "caller-id-7"

        unknown = http.post(
            "/invocations", json={"instances": rows(1)}, headers={"X-Shipyard-Variant": "purple"}
        )
        assert unknown.status_code == 400
        error = unknown.json()["error"]
        assert error["field"] == "X-Shipyard-Variant"
        assert "blue" in error["message"] and "purple" in error["message"]

        v2 = http.post(
            "/v2/models/green/infer",
            json={"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP64", "data": rows(1)}]},
        )
        assert v2.status_code == 200, v2.text
        assert v2.headers["x-shipyard-variant"] == "green"
        assert v2.json()["model_version"] == "2"

        ids = {http.get("/ping").headers["x-request-id"] for _ in range(20)}
        assert len(ids) == 20

        metrics = http.get("/metrics").text
    samples = {
        (s.name, s.labels.get("variant"), s.labels.get("code")): s.value
        for family in text_string_to_metric_families(metrics)
        for s in family.samples
    }
    assert samples["shipyard_serving_variant_requests_total", "green", "2xx"] >= seen["green"]
    assert samples["shipyard_serving_variant_requests_total", "dark", "2xx"] == 5
    assert samples["shipyard_serving_variant_weight", "blue", None] == 3


def test_an_endpoint_without_variant_rows_serves_its_model_as_primary(platform: Platform) -> None:
    register_three(platform)
    _create(platform, model="bc-model@2")
    from shipyard.store.metadata import endpoint_tables as et

    with platform.db.session() as session:
        session.query(et.EndpointVariant).delete()
        session.query(et.EndpointState).delete()
    with serving(platform, "ab") as served, served.client() as http:
        response = http.post("/invocations", json={"instances": rows(1)})
        assert response.status_code == 200
        assert response.headers["x-shipyard-variant"] == "primary"
        assert response.headers["x-shipyard-model-version"] == "2"
