"""Micro-batching merges concurrent requests without mixing answers; overload gets a fast 503."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from servingkit import ENDPOINT, FAIL_MARKER, LiveServer, MemoryAuthorizer, stored_predictor

from shipyard.flavors import Prediction, Predictor
from shipyard.serving import (
    BatchingSettings,
    CostModel,
    EndpointConfig,
    ModelSlot,
    ServingApp,
    ServingSettings,
    Variant,
)


class CountingPredictor(Predictor):
    """A real predictor that sleeps per call, records batch sizes and fails on a marked row."""

    def __init__(self, inner: Predictor, pause: float) -> None:
        super().__init__(inner.model, inner.signature)
        self.inner = inner
        self.flavor = inner.flavor  # type: ignore[misc]
        self.pause = pause
        self.sizes: list[int] = []

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        matrix = np.asarray(features)
        self.sizes.append(len(matrix))
        time.sleep(self.pause)
        if (matrix[:, 0] == FAIL_MARKER).any():
            raise RuntimeError("the model cannot handle this row")
        return self.inner.predict(features)


def _app(predictor: Predictor, authorizer: MemoryAuthorizer, **settings: Any) -> ServingApp:
    batching = settings.pop("batching", BatchingSettings())
    config = EndpointConfig([Variant("primary", ModelSlot("m", 1, predictor))], batching=batching)
    return ServingApp(ENDPOINT, config, authorizer, ServingSettings(**settings))


def _concurrently(
    live: LiveServer, count: int, call: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """Each thread opens its connection first, then all send at once."""
    results: list[httpx.Response | None] = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        with live.client() as http:
            assert http.get("/ping").status_code == 200
            start.wait()
            results[i] = call(http, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


@pytest.mark.parametrize("in_thread", [False, True], ids=["inline", "thread"])
def test_concurrent_requests_are_merged_and_each_gets_its_own_answer(
    booster: Any,
    cancer: tuple[pd.DataFrame, np.ndarray],
    cancer_signature: Any,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
    in_thread: bool,
) -> None:
    inner = stored_predictor(booster, cancer_signature)
    predictor = CountingPredictor(inner, pause=0.05)
    batching = BatchingSettings(enabled=True, max_batch_size=8, max_wait_ms=2, in_thread=in_thread)
    live = serve_app(_app(predictor, authorizer, batching=batching))
    frame = cancer[0].to_numpy()
    sizes = [1 + i % 3 for i in range(24)]
    starts = [i * 3 for i in range(24)]
    bodies = [frame[s : s + n].tolist() for s, n in zip(starts, sizes, strict=True)]
    bodies[5] = [[FAIL_MARKER, *bodies[5][0][1:]]]

    def call(http: httpx.Client, i: int) -> httpx.Response:
        return http.post("/invocations", json={"instances": bodies[i]})

    responses = _concurrently(live, 24, call)
    for i, response in enumerate(responses):
        if i == 5:
            assert response.status_code == 500
            assert response.json()["error"]["type"] == "PredictionFailed"
            continue
        assert response.status_code == 200, response.text
        mine = inner.predict(np.array(bodies[i]))
        assert response.json()["predictions"] == mine.predictions.tolist()
        assert np.allclose(response.json()["probabilities"], mine.probabilities)
    assert max(predictor.sizes) > 3  # at least one call carried several requests
    assert max(predictor.sizes) <= 8
    assert len(predictor.sizes) < 24 + 8  # merged calls (plus the retries of the failed batch)


def test_overload_is_answered_at_once_with_503_and_retry_after(
    booster: Any,
    cancer_signature: Any,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    predictor = CountingPredictor(stored_predictor(booster, cancer_signature), pause=0.4)
    live = serve_app(_app(predictor, authorizer, max_inflight=2, offload_rows=1))
    row = [[0.5] * 30]

    def call(http: httpx.Client, i: int) -> httpx.Response:
        return http.post("/invocations", json={"instances": row})

    responses = _concurrently(live, 8, call)
    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and 503 in codes
    assert set(codes) == {200, 503}
    for response in responses:
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1"
            assert response.json()["error"]["type"] == "Overloaded"
    with live.client() as http:
        assert http.post("/invocations", json={"instances": row}).status_code == 200
        text = http.get("/metrics").text
    dropped = {
        s.labels["kind"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "shipyard_serving_dropped_total"
    }
    assert dropped["overload"] == codes.count(503)


def test_cost_model_waits_only_when_batching_pays() -> None:
    costly = CostModel()
    for i in range(40):
        rows = 1 if i % 2 else 32
        costly.observe(rows, 160e-6 + rows * 1e-6)
    fixed, per_row = costly.estimate()
    assert fixed == pytest.approx(160e-6, rel=0.05)
    assert per_row == pytest.approx(1e-6, rel=0.2)
    now = 100.0
    for _ in range(300):
        now += 50e-6
        costly.arrival(now)
    assert costly.wait_seconds(0.002) == pytest.approx(fixed)
    assert costly.wait_seconds(100e-6) == pytest.approx(100e-6)
    for _ in range(300):
        now += 1e-3
        costly.arrival(now)
    assert costly.wait_seconds(0.002) == 0.0  # one request per ms: none joins within 160 µs
    for _ in range(200):
        now += 0.05
        costly.arrival(now)
    assert costly.wait_seconds(0.002) == 0.0  # a request every 50 ms: nobody to wait for

    per_row_bound = CostModel()
    for i in range(40):
        rows = 1 if i % 2 else 32
        per_row_bound.observe(rows, 2e-6 + rows * 10e-6)
    for _ in range(300):
        now += 1e-6
        per_row_bound.arrival(now)
    assert per_row_bound.wait_seconds(0.002) == 0.0

    fresh = CostModel()
    assert fresh.wait_seconds(0.002) == 0.0
