"""The Open Inference Protocol (V2) over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from servingkit import ENDPOINT, FULL_KEY, MODEL, LiveServer, MemoryAuthorizer

from shipyard.serving import ServingApp, create_serving_app

INFER = f"/v2/models/{MODEL}/infer"


@pytest.fixture
def rows(cancer: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    return cancer[0].iloc[100:103]


def _column_tensors(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"name": name, "shape": [len(frame)], "datatype": "FP64", "data": frame[name].tolist()}
        for name in frame.columns
    ]


def _outputs(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {output["name"]: output for output in response.json()["outputs"]}


def test_infer_with_one_tensor_per_column(
    client: httpx.Client, booster: Any, rows: pd.DataFrame
) -> None:
    response = client.post(INFER, json={"id": "req-7", "inputs": _column_tensors(rows)})
    body = response.json()
    assert (body["id"], body["model_name"], body["model_version"]) == ("req-7", MODEL, "3")
    outputs = _outputs(response)
    assert outputs["predictions"]["shape"] == [3]
    assert outputs["predictions"]["datatype"] == "BYTES"
    probabilities = outputs["probabilities"]
    assert (probabilities["shape"], probabilities["datatype"]) == ([3, 2], "FP64")
    np.testing.assert_allclose(
        np.array(probabilities["data"]).reshape(3, 2)[:, 1], booster.predict(rows.to_numpy())
    )
    assert response.headers["x-shipyard-model-version"] == "3"


@pytest.mark.parametrize("nested", [False, True])
def test_infer_with_one_matrix_tensor(
    client: httpx.Client, booster: Any, rows: pd.DataFrame, nested: bool
) -> None:
    matrix = rows.to_numpy()
    data = matrix.tolist() if nested else matrix.ravel().tolist()
    tensor = {"name": "input-0", "shape": list(matrix.shape), "datatype": "FP32", "data": data}
    response = client.post(INFER, json={"inputs": [tensor], "outputs": [{"name": "probabilities"}]})
    outputs = _outputs(response)
    assert list(outputs) == ["probabilities"]
    assert "id" not in response.json()
    np.testing.assert_allclose(
        np.array(outputs["probabilities"]["data"]).reshape(3, 2)[:, 1],
        booster.predict(matrix),
    )


def test_endpoint_name_and_versioned_paths(client: httpx.Client, rows: pd.DataFrame) -> None:
    payload = {"inputs": _column_tensors(rows)}
    assert client.post(f"/v2/models/{ENDPOINT}/infer", json=payload).status_code == 200
    assert client.post(f"/v2/models/{MODEL}/versions/3/infer", json=payload).status_code == 200
    wrong_version = client.post(f"/v2/models/{MODEL}/versions/4/infer", json=payload)
    assert wrong_version.status_code == 404
    assert wrong_version.json()["error"].startswith("version: ")
    unknown = client.post("/v2/models/other-model/infer", json=payload)
    assert unknown.status_code == 404
    assert unknown.json()["error"].startswith("name: ")


def test_metadata_and_readiness(client: httpx.Client, rows: pd.DataFrame) -> None:
    metadata = client.get(f"/v2/models/{MODEL}").json()
    assert metadata["name"] == MODEL
    assert metadata["versions"] == ["3"]
    assert metadata["platform"] == "lightgbm"
    assert [tensor["name"] for tensor in metadata["inputs"]] == list(rows.columns)
    assert {tensor["datatype"] for tensor in metadata["inputs"]} == {"FP64"}
    assert metadata["outputs"][1] == {
        "name": "probabilities",
        "datatype": "FP64",
        "shape": [-1, 2],
    }
    assert client.get(f"/v2/models/{ENDPOINT}/versions/3").json()["name"] == MODEL
    assert client.get(f"/v2/models/{MODEL}/ready").json() == {"name": MODEL, "ready": True}
    assert client.get("/v2/models/nope/ready").status_code == 404
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}


def test_infer_errors_name_the_tensor(client: httpx.Client, rows: pd.DataFrame) -> None:
    def error(payload: Any) -> dict[str, Any]:
        response = client.post(INFER, json=payload)
        assert response.status_code == 400, response.text
        # The Open Inference Protocol's error object: {"error": "<message>"}, nothing else;
        # Shipyard's message starts with the field it names.
        body = response.json()
        assert list(body) == ["error"] and isinstance(body["error"], str), body
        field, _, message = body["error"].partition(": ")
        return {"field": field, "message": message}

    tensors = _column_tensors(rows)
    assert error({"inputs": tensors[1:]})["field"] == "mean radius"
    assert error({"inputs": [*tensors, {**tensors[0], "name": "bogus"}]})["field"] == "bogus"
    assert error({"inputs": [*tensors, tensors[0]]})["field"] == "mean radius"

    as_bytes = [dict(t) for t in tensors]
    as_bytes[2] = {**as_bytes[2], "datatype": "BYTES"}
    assert error({"inputs": as_bytes})["field"] == "mean perimeter"

    strings = [dict(t) for t in tensors]
    strings[3] = {**strings[3], "data": ["a", "b", "c"]}
    found = error({"inputs": strings})
    assert (found["field"], "expected a number" in found["message"]) == ("mean area", True)

    short = [dict(t) for t in tensors]
    short[0] = {**short[0], "shape": [4]}
    assert error({"inputs": short})["field"] == "mean radius"

    matrix = rows.to_numpy()
    narrow = {"name": "x", "shape": [3, 5], "datatype": "FP64", "data": matrix[:, :5].tolist()}
    assert error({"inputs": [narrow]})["field"] == "x"
    assert error({"inputs": []})["field"] == "inputs"
    assert error({"inputs": [{"name": "x"}]})["field"] == "inputs[0]"
    assert error({"inputs": tensors, "outputs": [{"name": "logits"}]})["field"] == "outputs"
    assert error({"inputs": tensors, "id": 5})["field"] == "id"


def test_v2_with_a_mixed_type_model(
    fruit: pd.DataFrame,
    fruit_predictor: Any,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    app = create_serving_app(ENDPOINT, "fruit", 2, fruit_predictor, authorizer)
    features = fruit.drop(columns="ripe").iloc[:4]
    datatypes = {"color": "BYTES", "weight": "FP64", "seeds": "INT64", "organic": "BOOL"}
    tensors = [
        {"name": c, "shape": [4], "datatype": datatypes[c], "data": features[c].tolist()}
        for c in features.columns
    ]
    with serve_app(app).client(FULL_KEY) as http:
        outputs = _outputs(http.post("/v2/models/fruit/infer", json={"inputs": tensors}))
        metadata = http.get("/v2/models/fruit").json()
    assert outputs["predictions"]["datatype"] == "INT64"
    assert outputs["predictions"]["data"] == fruit_predictor.model.predict(features).tolist()
    assert [(t["name"], t["datatype"]) for t in metadata["inputs"]] == list(datatypes.items())


def test_big_v2_batch_is_predicted_off_the_event_loop(
    client: httpx.Client, booster: Any, cancer: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame = cancer[0].iloc[:120]
    outputs = _outputs(client.post(INFER, json={"inputs": _column_tensors(frame)}))
    probabilities = np.array(outputs["probabilities"]["data"]).reshape(120, 2)
    np.testing.assert_allclose(probabilities[:, 1], booster.predict(frame.to_numpy()))
