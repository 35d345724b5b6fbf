"""One error document for both planes, drawn from the tree in ``shipyard.errors``;
the Open Inference Protocol routes answer as that spec says; the SDK maps bodies back."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx
import pytest
from servingkit import MODEL, NOTHING_KEY, LiveServer
from tests.conftest import LiveServer as ApiServer

from shipyard import errors
from shipyard.api import create_app
from shipyard.client._transport import error_from_response
from shipyard.config import Settings
from shipyard.platform import Platform
from shipyard.security import bootstrap, issue_admin_key_if_none
from shipyard.serving._http import error_response

TREE = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.ShipyardError)
]
ENVELOPE_KEYS = {"type", "message", "field"}


def test_the_tree_is_drawn_and_every_class_has_a_builtin_and_a_status() -> None:
    drawn = inspect.getdoc(errors) or ""
    listed = {cls for cls, _ in errors.HTTP_STATUS}
    for cls in TREE:
        assert f" {cls.__name__} " in drawn, f"{cls.__name__} is missing from the drawing"
        if cls is not errors.ShipyardError:
            assert cls in listed, f"{cls.__name__} has no status"
            assert any(
                issubclass(cls, builtin) and builtin is not Exception
                for builtin in (ValueError, LookupError, RuntimeError, PermissionError, OSError)
            ), cls
    statuses = dict(errors.HTTP_STATUS)
    for cls, status in errors.HTTP_STATUS:  # a subclass is listed before its base
        for base in cls.__mro__[1:]:
            if base in statuses:
                position = [c for c, _ in errors.HTTP_STATUS]
                assert position.index(cls) < position.index(base), (cls, base)
        assert f"{status}" in drawn.split(f" {cls.__name__} ")[1].split("\n")[0]


@pytest.mark.parametrize("cls", [c for c in TREE if c is not errors.ShipyardError])
def test_a_data_plane_error_comes_back_to_the_sdk_as_its_class(
    cls: type[errors.ShipyardError],
) -> None:
    response, kind = error_response(cls("went wrong", field="where"))
    assert kind == cls.__name__
    assert orjson_keys(response.body) == ENVELOPE_KEYS
    raised = error_from_response(response.status, response.body)
    assert type(raised) is cls
    assert (raised.message, raised.field) == ("went wrong", "where")
    assert response.status == errors.http_status(raised)


def orjson_keys(body: bytes) -> set[str]:
    import orjson

    document = orjson.loads(body)
    assert list(document) == ["error"]
    return set(document["error"])


def test_both_planes_answer_with_the_same_document(tmp_path: Path, client: httpx.Client) -> None:
    platform = Platform.open(Settings(home=tmp_path / "home"))
    bootstrap(platform)
    key = issue_admin_key_if_none(platform)
    assert key is not None
    api = ApiServer(create_app(platform))
    try:
        with httpx.Client(
            base_url=api.url, headers={"Authorization": f"Bearer {key.token}"}
        ) as rest:
            control = [
                rest.get("/api/v1/models/no-such-model"),
                rest.get("/api/v1/audit", params={"limit": 0}),
                httpx.get(f"{api.url}/api/v1/models"),
            ]
    finally:
        api.close()
        platform.close()
    data = [
        client.get("/nowhere"),
        client.post("/invocations", json={"instances": [["x"] * 30]}),
        httpx.post(f"{client.base_url}/invocations", json={}),
        client.put("/invocations"),
    ]
    for response in control + data:
        assert response.status_code >= 400
        assert list(response.json()) == ["error"], response.text
        assert set(response.json()["error"]) == ENVELOPE_KEYS, response.text
    kinds = [r.json()["error"]["type"] for r in control + data]
    assert kinds == [
        "NotFound",
        "InvalidInput",
        "Unauthenticated",
        "NotFound",
        "InvalidInput",
        "Unauthenticated",
        "MethodNotAllowed",
    ]


def test_open_inference_protocol_errors_are_a_bare_message(
    client: httpx.Client, live: LiveServer
) -> None:
    infer = f"/v2/models/{MODEL}/infer"
    with live.client(NOTHING_KEY) as powerless:
        answers = [
            client.post(infer, json={"inputs": []}),
            client.post(f"/v2/models/{MODEL}/versions/99/infer", json={"inputs": []}),
            client.get("/v2/models/other"),
            client.post(f"/v2/models/{MODEL}", json={}),
            httpx.post(f"{live.url}{infer}", json={}),
            powerless.post(infer, json={}),
        ]
    assert [a.status_code for a in answers] == [400, 404, 404, 405, 401, 403]
    for answer in answers:
        assert answer.json().keys() == {"error"} and isinstance(answer.json()["error"], str)
    assert answers[0].json() == {"error": "inputs: expected a non-empty list of input tensors"}
