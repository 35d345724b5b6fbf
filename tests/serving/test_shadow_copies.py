"""A shadow's failures and slowness never reach the caller; its copies are counted or dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from servingkit import ENDPOINT, LiveServer, MemoryAuthorizer, stored_predictor

from shipyard.flavors import ModelSignature, Prediction, Predictor
from shipyard.serving import EndpointConfig, ModelSlot, ServingApp, ServingSettings, Variant
from shipyard.serving._stats import StatsWindows, VariantTotals


class Misbehaving(Predictor):
    """Wraps a real model; raises on every call, or sleeps before answering."""

    def __init__(self, inner: Predictor, *, fail: bool = False, pause: float = 0.0) -> None:
        super().__init__(inner.model, inner.signature)
        self.inner = inner
        self.flavor = inner.flavor  # type: ignore[misc]
        self.fail = fail
        self.pause = pause

    def predict(self, features: np.ndarray | pd.DataFrame) -> Prediction:
        time.sleep(self.pause)
        if self.fail:
            raise RuntimeError("the shadow model is broken")
        return self.inner.predict(features)


def _app(
    live: Predictor, shadow: Predictor, authorizer: MemoryAuthorizer, **settings: Any
) -> ServingApp:
    config = EndpointConfig(
        [
            Variant("primary", ModelSlot("m", 1, live)),
            Variant("twin", ModelSlot("m", 2, shadow), role="shadow", shadow_percent=100),
        ]
    )
    return ServingApp(ENDPOINT, config, authorizer, ServingSettings(**settings))


def _wait(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_a_failing_shadow_is_counted_and_never_answers(
    booster: Any,
    cancer_signature: ModelSignature,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    model = stored_predictor(booster, cancer_signature)
    app = _app(model, Misbehaving(model, fail=True), authorizer)
    live = serve_app(app)
    with live.client() as http:
        for _ in range(20):
            response = http.post("/invocations", json={"instances": [[0.5] * 30]})
            assert response.status_code == 200
            assert response.headers["x-shipyard-variant"] == "primary"
    _wait(lambda: app.shadows.totals.get("twin", VariantTotals()).requests == 20)
    totals = app.variant_totals()
    assert totals["twin"].errors == 20 and totals["twin"].shadow_comparisons == 0
    assert totals["primary"].requests == 20 and totals["primary"].errors == 0


def test_a_slow_shadow_sheds_copies_instead_of_delaying_callers(
    booster: Any,
    cancer_signature: ModelSignature,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    model = stored_predictor(booster, cancer_signature)
    app = _app(model, Misbehaving(model, pause=0.3), authorizer, shadow_queue=2)
    live = serve_app(app)
    with live.client() as http:
        for _ in range(20):
            assert http.post("/invocations", json={"instances": [[0.5] * 30]}).status_code == 200
    live.stop()  # a clean shutdown finishes the queued copies (or drops them past 2 s)
    answered = app.shadows.totals["twin"].requests
    assert app.shadows.dropped > 0
    assert answered + app.shadows.dropped == 20
    assert app.shadows.totals["twin"].shadow_agreements == answered


def test_windows_count_each_request_once_across_a_boundary() -> None:
    windows = StatsWindows(window=10.0)
    totals = VariantTotals()
    for _ in range(3):
        totals.observe(0.002, failed=False)
    first = windows.rows({"a": _copy(totals)}, now=101.0)
    assert [(r.window_start, r.totals.requests) for r in first] == [(100.0, 3)]
    totals.observe(0.5, failed=True)
    crossing = windows.rows({"a": _copy(totals)}, now=110.5)
    assert [(r.window_start, r.totals.requests, r.totals.errors) for r in crossing] == [
        (100.0, 4, 1)
    ]
    totals.observe(0.001, failed=False)
    later = windows.rows({"a": _copy(totals)}, now=112.0)
    assert [(r.window_start, r.totals.requests) for r in later] == [(110.0, 1)]
    document = later[0].latency_document()
    assert len(document["counts"]) == len(document["bounds"]) + 1
    assert sum(document["counts"]) == 1


def _copy(totals: VariantTotals) -> VariantTotals:
    return totals.minus(VariantTotals())
