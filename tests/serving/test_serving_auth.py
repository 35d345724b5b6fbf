"""Authorization of the serving app: every route needs a key and an action, except the probes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from servingkit import (
    ENDPOINT,
    FULL_KEY,
    INVOKE_KEY,
    MODEL,
    NOTHING_KEY,
    VERSION,
    LiveServer,
    MemoryAuthorizer,
)

from shipyard.serving import INVOKE, Request, Response, Route, ServingApp, endpoint_resource

PUBLIC_PROBES = {"/ping", "/v2/health/live", "/v2/health/ready"}


def _concrete(route: Route) -> str:
    values = {"name": MODEL, "version": str(VERSION)}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), route.path)


def test_every_route_needs_a_key_and_an_action_except_the_probes(
    cancer_app: ServingApp, live: LiveServer
) -> None:
    assert {route.path for route in cancer_app.routes if route.public} == PUBLIC_PROBES
    assert len(cancer_app.routes) > len(PUBLIC_PROBES)
    with (
        live.client(None) as anonymous,
        live.client("not-a-key") as stranger,
        live.client(NOTHING_KEY) as powerless,
    ):
        for route in cancer_app.routes:
            path = _concrete(route)
            for method in route.methods:
                if route.public:
                    assert anonymous.request(method, path).status_code == 200, path
                    continue
                for http, status in ((anonymous, 401), (stranger, 401), (powerless, 403)):
                    response = http.request(method, path, json={"instances": [[1.0]]})
                    assert response.status_code == status, (method, path, response.text)
                    error = response.json()["error"]
                    if path.startswith("/v2/"):
                        assert isinstance(error, str), response.text
                    else:
                        assert error["type"] in {"Unauthenticated", "AccessDenied"}
                    if status == 401:
                        assert response.headers["www-authenticate"] == "Bearer"


def test_each_route_asks_for_its_action_on_the_endpoint(
    cancer_app: ServingApp, authorizer: MemoryAuthorizer, live: LiveServer
) -> None:
    with live.client(FULL_KEY) as http:
        http.post("/invocations", json={"instances": [[1.0] * 30]})
        http.get(f"/v2/models/{MODEL}")
        http.get("/metrics")
    resource = endpoint_resource(ENDPOINT)
    assert authorizer.calls == [
        (FULL_KEY, "endpoints:Invoke", resource),
        (FULL_KEY, "endpoints:Describe", resource),
        (FULL_KEY, "endpoints:ReadMetrics", resource),
    ]


def test_an_invoke_only_key_cannot_describe_or_read_metrics(live: LiveServer) -> None:
    with live.client(INVOKE_KEY) as http:
        assert http.post("/invocations", json={"instances": [[1.0] * 30]}).status_code == 200
        assert http.get(f"/v2/models/{MODEL}").status_code == 403
        assert http.get(f"/v2/models/{MODEL}/ready").status_code == 403
        assert http.get("/metrics").status_code == 403


def test_unauthorized_callers_learn_nothing_about_models(live: LiveServer) -> None:
    with live.client(None) as anonymous:
        assert anonymous.get("/v2/models/unknown").status_code == 401
        assert anonymous.post("/v2/models/unknown/infer", json={}).status_code == 401


def test_added_routes_obey_the_same_rule(cancer_app: ServingApp, live: LiveServer) -> None:
    async def constant(request: Request) -> Response:
        return Response(200, b"{}")

    cancer_app.add_route(Route("/bench/empty", frozenset({"POST"}), constant, INVOKE))
    with live.client(None) as anonymous, live.client(NOTHING_KEY) as powerless:
        assert anonymous.post("/bench/empty").status_code == 401
        assert powerless.post("/bench/empty").status_code == 403
    with live.client(INVOKE_KEY) as http:
        assert http.post("/bench/empty").content == b"{}"


@pytest.mark.parametrize("rule", [{}, {"action": INVOKE, "public": True}])
def test_a_route_must_declare_exactly_one_of_an_action_or_public(rule: dict[str, Any]) -> None:
    async def handler(request: Request) -> Response:
        return Response(200, b"")

    with pytest.raises(ValueError, match="exactly one"):
        Route("/x", frozenset({"GET"}), handler, **rule)
