"""MLflow's ``params`` beside the input: applied where the flavor takes them, else ignored
with a note (the ``X-Shipyard-Ignored-Params`` header), and a 400 naming them when malformed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from servingkit import ENDPOINT, MODEL, VERSION, LiveServer, MemoryAuthorizer, stored_predictor

from shipyard.flavors import ModelSignature, Predictor
from shipyard.serving import ServingApp, create_serving_app

IGNORED = "x-shipyard-ignored-params"


@pytest.fixture
def lightgbm_live(
    booster: Any,
    cancer_signature: ModelSignature,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> LiveServer:
    predictor = stored_predictor(booster, cancer_signature)
    return serve_app(create_serving_app(ENDPOINT, MODEL, VERSION, predictor, authorizer))


def _split(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}


def test_lightgbm_applies_num_iteration(
    lightgbm_live: LiveServer, booster: Any, cancer: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame = cancer[0].iloc[:5]
    with lightgbm_live.client() as http:
        answer = http.post(
            "/invocations",
            json={"dataframe_split": _split(frame), "params": {"num_iteration": 2}},
        )
        full = http.post("/invocations", json={"dataframe_split": _split(frame)})
    assert answer.status_code == 200, answer.text
    assert IGNORED not in answer.headers
    probabilities = np.array(answer.json()["probabilities"])[:, 1]
    np.testing.assert_allclose(probabilities, booster.predict(frame.to_numpy(), num_iteration=2))
    assert not np.allclose(probabilities, np.array(full.json()["probabilities"])[:, 1])


def test_params_a_flavor_does_not_take_are_ignored_with_a_note(
    lightgbm_live: LiveServer, cancer: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame = cancer[0].iloc[:3]
    with lightgbm_live.client() as http:
        plain = http.post("/invocations", json={"dataframe_records": frame.to_dict("records")})
        noted = http.post(
            "/invocations",
            json={
                "params": {"temperature": 0.2, "num_iteration": 0, "stop": ["a", "b"]},
                "dataframe_records": frame.to_dict("records"),
            },
        )
    assert noted.status_code == 200, noted.text
    assert noted.headers[IGNORED] == "stop, temperature"
    assert noted.json() == plain.json()
    assert IGNORED not in plain.headers


def test_a_flavor_without_params_ignores_them_all(
    fruit: pd.DataFrame,
    fruit_predictor: Predictor,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    app = create_serving_app(ENDPOINT, "fruit", 1, fruit_predictor, authorizer)
    rows = fruit.drop(columns="ripe").iloc[:2].to_dict("records")
    with serve_app(app).client() as http:
        answer = http.post(
            "/invocations", json={"dataframe_records": rows, "params": {"num_iteration": 3}}
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers[IGNORED] == "num_iteration"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("fast", "params"),
        ([1, 2], "params"),
        ({"depth": {"max": 3}}, "params.depth"),
        ({"stop": [["nested"]]}, "params.stop"),
        ({"num_iteration": -1}, "params.num_iteration"),
        ({"num_iteration": 2.5}, "params.num_iteration"),
    ],
)
def test_malformed_params_are_a_400_naming_them(
    lightgbm_live: LiveServer, cancer: tuple[pd.DataFrame, np.ndarray], params: Any, field: str
) -> None:
    body = {"instances": cancer[0].iloc[:1].to_numpy().tolist(), "params": params}
    with lightgbm_live.client() as http:
        answer = http.post("/invocations", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == field
    assert answer.json()["error"]["type"] == "InvalidInput"


def test_params_are_only_accepted_beside_one_input(lightgbm_live: LiveServer) -> None:
    with lightgbm_live.client() as http:
        alone = http.post("/invocations", json={"params": {"num_iteration": 1}})
        extra = http.post("/invocations", json={"instances": [[1.0]], "extra": 1, "params": {}})
    assert alone.status_code == 400 and alone.json()["error"]["field"] == "body"
    assert extra.status_code == 400
