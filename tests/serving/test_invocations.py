"""POST /invocations over real HTTP: every input format, every rejection, and recovery."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from servingkit import (
    ENDPOINT,
    FAIL_MARKER,
    FULL_KEY,
    LiveServer,
    MemoryAuthorizer,
    stored_predictor,
)

from shipyard.serving import ServingApp, ServingSettings, create_serving_app


@pytest.fixture
def rows(cancer: tuple[pd.DataFrame, np.ndarray]) -> pd.DataFrame:
    return cancer[0].iloc[10:14]


@pytest.fixture
def expected(booster: Any, rows: pd.DataFrame) -> np.ndarray:
    return booster.predict(rows.to_numpy())


def _check(response: httpx.Response, expected: np.ndarray) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-shipyard-model-version"] == "3"
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    probabilities = np.array(body["probabilities"])
    np.testing.assert_allclose(probabilities[:, 1], expected)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    labels = np.where(expected >= 0.5, "benign", "malignant")
    assert body["predictions"] == labels.tolist()


def _error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_dataframe_split(client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray) -> None:
    payload = {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}}
    _check(client.post("/invocations", json=payload), expected)


def test_dataframe_split_orient_split_with_shuffled_columns(
    client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    shuffled = rows[list(reversed(rows.columns))]
    payload = {"dataframe_split": orjson_split(shuffled)}
    _check(client.post("/invocations", json=payload), expected)


def orjson_split(frame: pd.DataFrame) -> dict[str, Any]:
    split: dict[str, Any] = frame.to_dict(orient="split")
    return split


def test_dataframe_records(client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray) -> None:
    payload = {"dataframe_records": rows.to_dict(orient="records")}
    _check(client.post("/invocations", json=payload), expected)


def test_instances_as_records_and_as_lists(
    client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    _check(client.post("/invocations", json={"instances": rows.to_dict("records")}), expected)
    _check(client.post("/invocations", json={"instances": rows.to_numpy().tolist()}), expected)


def test_inputs_as_columns_and_as_lists(
    client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    _check(client.post("/invocations", json={"inputs": rows.to_dict("list")}), expected)
    _check(client.post("/invocations", json={"inputs": rows.to_numpy().tolist()}), expected)


def test_csv_with_header(client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray) -> None:
    body = rows.to_csv(index=False).encode()
    response = client.post("/invocations", content=body, headers={"Content-Type": "text/csv"})
    _check(response, expected)


def test_integers_are_accepted_for_float_columns(
    client: httpx.Client, booster: Any, rows: pd.DataFrame
) -> None:
    whole = rows.round(0).astype(int)
    response = client.post("/invocations", json={"dataframe_records": whole.to_dict("records")})
    _check(response, booster.predict(whole.to_numpy(dtype=float)))


def test_null_in_a_float_column_is_a_missing_value(
    client: httpx.Client, booster: Any, rows: pd.DataFrame
) -> None:
    data = rows.to_numpy().tolist()
    data[0][3] = None
    payload = {"dataframe_split": {"columns": list(rows.columns), "data": data}}
    matrix = rows.to_numpy().copy()
    matrix[0, 3] = np.nan
    _check(client.post("/invocations", json=payload), booster.predict(matrix))


def test_big_batch_is_predicted_off_the_event_loop(
    client: httpx.Client, booster: Any, cancer: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame = cancer[0].iloc[:300]
    payload = {"instances": frame.to_numpy().tolist()}
    _check(client.post("/invocations", json=payload), booster.predict(frame.to_numpy()))


def test_column_errors_name_the_column(client: httpx.Client, rows: pd.DataFrame) -> None:
    columns = list(rows.columns)
    data = rows.to_numpy().tolist()

    missing = {"dataframe_split": {"columns": columns[1:], "data": [r[1:] for r in data]}}
    error = _error(client.post("/invocations", json=missing))
    assert error["type"] == "InvalidInput"
    assert error["field"] == "mean radius"
    assert "missing" in error["message"]

    unknown = {
        "dataframe_split": {"columns": [*columns, "shoe size"], "data": [[*r, 1] for r in data]}
    }
    error = _error(client.post("/invocations", json=unknown))
    assert error["field"] == "shoe size"
    assert "unknown column" in error["message"]

    texty = [list(r) for r in data]
    texty[1][2] = "12.5"
    error = _error(
        client.post("/invocations", json={"dataframe_split": {"columns": columns, "data": texty}})
    )
    assert error["field"] == "mean perimeter"
    assert "expected a number" in error["message"]

    boolean = [list(r) for r in data]
    boolean[0][4] = True
    error = _error(client.post("/invocations", json={"instances": boolean}))
    assert error["field"] == columns[4]
    assert "boolean" in error["message"]

    records = rows.to_dict("records")
    del records[2]["worst symmetry"]
    error = _error(client.post("/invocations", json={"dataframe_records": records}))
    assert error["field"] == "worst symmetry"

    records = rows.to_dict("records")
    records[0]["extra"] = 1.0
    error = _error(client.post("/invocations", json={"instances": records}))
    assert error["field"] == "extra"

    columnar = rows.to_dict("list")
    columnar["mean texture"] = columnar["mean texture"][:-1]
    error = _error(client.post("/invocations", json={"inputs": columnar}))
    assert error["field"] == "mean texture"


def test_csv_cell_errors_name_the_column(client: httpx.Client, rows: pd.DataFrame) -> None:
    frame = rows.astype(object)
    frame.iloc[1, 5] = "lots"
    response = client.post(
        "/invocations", content=frame.to_csv(index=False), headers={"Content-Type": "text/csv"}
    )
    error = _error(response)
    assert error["field"] == rows.columns[5]
    assert "'lots'" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"", "body"),
        (b"[1, 2]", "body"),
        (b'{"dataframe": {"columns": [], "data": []}}', "body"),
        (b'{"instances": [], "inputs": []}', "body"),
        (b'{"instances": [[1.0]], "params": "k=1"}', "params"),
        (b'{"instances": [[1.0]], "extra": {"k": 1}}', "extra"),
        (b'{"instances": []}', "instances"),
        (b'{"dataframe_split": {"columns": [], "data": []}}', "dataframe_split.data"),
        (b'{"dataframe_split": {"columns": "abc", "data": [[1]]}}', "dataframe_split.data.columns"),
        (b'{"dataframe_split": {"data": [[1, 2]]}}', "dataframe_split.data"),
        (b'{"dataframe_split": {"cols": [], "data": [[1]]}}', "dataframe_split.cols"),
        (b'{"dataframe_records": [1, 2]}', "dataframe_records"),
        (b'{"instances": [1, 2, 3]}', "instances"),
        (b'{"inputs": {}}', "inputs"),
    ],
)
def test_malformed_bodies_are_rejected(client: httpx.Client, body: bytes, field: str) -> None:
    response = client.post(
        "/invocations", content=body, headers={"Content-Type": "application/json"}
    )
    assert _error(response)["field"] == field


def test_unsupported_content_type(client: httpx.Client) -> None:
    response = client.post("/invocations", content=b"a=1", headers={"Content-Type": "text/plain"})
    error = _error(response, 415)
    assert error["field"] == "content-type"


def test_body_over_the_limit_by_content_length(live: LiveServer) -> None:
    body = b'{"instances": [' + b"1.0," * 60_000 + b"1.0]}"
    with live.client() as http:
        response = http.post(
            "/invocations", content=body, headers={"Content-Type": "application/json"}
        )
    assert _error(response, 413)["type"] == "PayloadTooLarge"


def test_body_over_the_limit_while_streaming(live: LiveServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"instances": ['
        for _ in range(30):
            yield b"1.0," * 2_000
        yield b"1.0]}"

    with live.client() as http:
        response = http.post(
            "/invocations", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert "content-length" not in response.request.headers
    assert _error(response, 413)["type"] == "PayloadTooLarge"
    with live.client() as http:
        assert http.get("/ping").status_code == 200


def test_wrong_method_and_unknown_path(client: httpx.Client) -> None:
    response = client.get("/invocations")
    assert _error(response, 405)["type"] == "MethodNotAllowed"
    assert response.headers["allow"] == "POST"
    assert _error(client.post("/predict", json={}), 404)["type"] == "NotFound"


def test_a_failing_model_gives_500_and_the_server_keeps_serving(
    client: httpx.Client, rows: pd.DataFrame, expected: np.ndarray
) -> None:
    data = rows.to_numpy().tolist()
    data[0][0] = FAIL_MARKER
    response = client.post("/invocations", json={"instances": data})
    error = _error(response, 500)
    assert error["type"] == "PredictionFailed"
    assert "cannot handle this row" in error["message"]
    _check(client.post("/invocations", json={"instances": rows.to_numpy().tolist()}), expected)


def test_string_columns_go_through_pandas(
    fruit: pd.DataFrame,
    fruit_predictor: Any,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
) -> None:
    app = create_serving_app(ENDPOINT, "fruit", 1, fruit_predictor, authorizer)
    features = fruit.drop(columns="ripe").iloc[:5]
    expected = fruit_predictor.model.predict_proba(features)
    with serve_app(app).client(FULL_KEY) as http:
        for payload in (
            {"dataframe_records": features.to_dict("records")},
            {"dataframe_split": features.to_dict("split")},
            {"inputs": features.to_dict("list")},
        ):
            response = http.post("/invocations", json=payload)
            assert response.status_code == 200, response.text
            np.testing.assert_allclose(response.json()["probabilities"], expected)
        csv = http.post(
            "/invocations",
            content=features.to_csv(index=False),
            headers={"Content-Type": "text/csv"},
        )
        np.testing.assert_allclose(csv.json()["probabilities"], expected)

        records = features.to_dict("records")
        for column, bad, message in (
            ("color", 3, "expected a string"),
            ("seeds", 2.5, "expected an integer"),
            ("organic", "yes", "expected true or false"),
            ("weight", "heavy", "expected a number"),
        ):
            broken = [dict(record) for record in records]
            broken[1][column] = bad
            error = _error(http.post("/invocations", json={"dataframe_records": broken}))
            assert (error["field"], message in error["message"]) == (column, True)


def test_small_settings_limit_is_respected(
    booster: Any,
    cancer_signature: Any,
    authorizer: MemoryAuthorizer,
    serve_app: Callable[[ServingApp], LiveServer],
    rows: pd.DataFrame,
) -> None:

    app = create_serving_app(
        ENDPOINT,
        "m",
        1,
        stored_predictor(booster, cancer_signature),
        authorizer,
        ServingSettings(max_body_bytes=100),
    )
    with serve_app(app).client() as http:
        response = http.post("/invocations", json={"instances": rows.to_numpy().tolist()})
    assert response.status_code == 413
