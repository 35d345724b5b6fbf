"""GET /metrics: Prometheus text with counts, errors and latency per model version and route."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from servingkit import ENDPOINT, MODEL, LiveServer

from shipyard.serving import ServingApp


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _labels(route: str, **extra: str) -> frozenset[tuple[str, str]]:
    labels = {"endpoint": ENDPOINT, "model": MODEL, "version": "3", "route": route, **extra}
    return frozenset(labels.items())


def test_metrics_count_requests_errors_rows_and_latency(client: httpx.Client) -> None:
    for _ in range(3):
        assert client.post("/invocations", json={"instances": [[1.0] * 30] * 2}).status_code == 200
    assert client.post("/invocations", json={"instances": [["x"] * 30]}).status_code == 400
    assert client.post(f"/v2/models/{MODEL}/infer", json={"inputs": []}).status_code == 400
    assert client.get("/nowhere").status_code == 404

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)

    requests = "shipyard_serving_requests_total"
    assert samples[requests, _labels("/invocations", code="2xx")] == 3
    assert samples[requests, _labels("/invocations", code="4xx")] == 1
    assert samples[requests, _labels("/v2/models/{name}/infer", code="4xx")] == 1
    assert samples[requests, _labels("unmatched", code="4xx")] == 1

    errors = "shipyard_serving_errors_total"
    assert samples[errors, _labels("/invocations", error="InvalidInput")] == 1
    assert samples[errors, _labels("unmatched", error="NotFound")] == 1

    rows = frozenset({"endpoint": ENDPOINT, "model": MODEL, "version": "3"}.items())
    assert samples["shipyard_serving_predicted_rows_total", rows] == 6

    latency = "shipyard_serving_request_duration_seconds"
    assert samples[f"{latency}_count", _labels("/invocations")] == 4
    assert samples[f"{latency}_bucket", _labels("/invocations", le="+Inf")] == 4
    assert samples[f"{latency}_bucket", _labels("/invocations", le="0.0001")] <= 4
    assert samples[f"{latency}_sum", _labels("/invocations")] > 0


def test_each_app_has_its_own_registry(cancer_app: ServingApp, live: LiveServer) -> None:
    with live.client() as http:
        http.post("/invocations", json={"instances": [[1.0] * 30]})
    fresh = ServingApp(cancer_app.endpoint_name, cancer_app.slot, cancer_app.authorizer)
    text, _ = fresh.metrics.render()
    assert b'route="/invocations"' not in text
    assert b'route="/invocations"' in cancer_app.metrics.render()[0]
