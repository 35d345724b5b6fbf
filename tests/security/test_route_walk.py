"""Every REST route answers 401 without a key and 403 for a principal whose policy denies it.

MLflow's routes (``/api/2.0/mlflow...``) are walked too, and answer in MLflow's error
document (``{"error_code": "UNAUTHENTICATED" | "PERMISSION_DENIED", "message"}``). So is the
console's session cookie: a denied principal's cookie (with its CSRF token) gets 403 on every
route, a made-up one 401. The only public routes are ``/healthz`` and the console's page, its
files and its login, listed here by method.
"""

from __future__ import annotations

import re

import httpx
from fastapi.routing import APIRoute
from starlette.routing import Route

from shipyard.api import MLFLOW_PATHS, MLFLOW_ROUTES, PUBLIC_PATHS, create_app
from shipyard.console import CONSOLE_PUBLIC_PATHS
from shipyard.operations import OPERATIONS
from shipyard.platform import Platform
from shipyard.security import (
    context_for,
    create_api_key,
    create_principal,
    list_audit_events,
    put_policy,
)


def _routes(platform: Platform) -> list[tuple[str, str]]:
    app = create_app(platform)
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute | Route) and route.path not in PUBLIC_PATHS:
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, re.sub(r"{[\w:]+}", "x", route.path)))
    return found


PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/"),
    ("GET", "/static/{path:path}"),
    ("GET", "/console/session"),
    ("POST", "/console/session"),
    ("DELETE", "/console/session"),
}


def test_the_public_routes_are_exactly_the_health_check_and_the_console_login(
    platform: Platform, api_server: object
) -> None:
    app = create_app(platform)
    public = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute | Route) and route.path in PUBLIC_PATHS
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert public == PUBLIC_ROUTES
    assert frozenset({"/healthz"}) | CONSOLE_PUBLIC_PATHS == PUBLIC_PATHS
    url = api_server.url  # type: ignore[attr-defined]
    with httpx.Client(base_url=url) as http:
        assert http.get("/").status_code == 200  # the page: no data in it
        assert http.get("/static/index.html").status_code == 200
        assert http.get("/console/session").status_code == 401  # the login checks the key
        assert http.post("/console/session", json={"key": "x"}).status_code == 401
        assert http.delete("/console/session").status_code == 204  # clears cookies only


def test_every_catalog_operation_is_mounted_and_authorized(platform: Platform) -> None:
    paths = {(m, p) for m, p in _routes(platform)}
    for op in OPERATIONS:
        assert op.info.action  # raises if the handler is not an @operation
        assert (op.method, re.sub(r"{\w+}", "x", op.path)) in paths


def test_every_route_needs_a_key_and_a_policy(platform: Platform, api_server: object) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "nobody")
    put_policy(
        admin,
        "DenyEverything",
        {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
    )
    token = create_api_key(admin, "nobody").token
    url = api_server.url  # type: ignore[attr-defined]
    routes = _routes(platform)
    with httpx.Client(base_url=url) as browser:
        assert browser.post("/console/session", json={"key": token}).status_code == 200
        session = {
            "Cookie": f"shipyard_session={browser.cookies['shipyard_session']}",
            "X-CSRF-Token": browser.cookies["shipyard_csrf"],
        }
    made_up = {"Cookie": "shipyard_session=" + "c" * 43, "X-CSRF-Token": "x"}
    assert len(routes) >= len(OPERATIONS)
    assert len([p for _, p in routes if p.startswith(MLFLOW_PATHS)]) == len(MLFLOW_ROUTES)
    with httpx.Client(base_url=url) as http:
        for method, path in routes:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            anonymous = http.request(method, path, content=body)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.headers["www-authenticate"] == "Bearer"
            bad_key = http.request(
                method,
                path,
                content=body,
                headers={"Authorization": "Bearer sy_0123456789abcdef_" + "a" * 43},
            )
            assert bad_key.status_code == 401, (method, path)
            denied = http.request(
                method, path, content=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert denied.status_code == 403, (method, path, denied.text)
            by_cookie = http.request(method, path, content=body, headers=session)
            assert by_cookie.status_code == 403, (method, path, by_cookie.text)
            no_session = http.request(method, path, content=body, headers=made_up)
            assert no_session.status_code == 401, (method, path, no_session.text)
            if path.startswith(MLFLOW_PATHS):
                assert anonymous.json()["error_code"] == "UNAUTHENTICATED", (method, path)
                assert denied.json()["error_code"] == "PERMISSION_DENIED", (method, path)
        assert http.get("/healthz").status_code == 200


def test_denials_are_audited(platform: Platform, api_server: object) -> None:
    admin = context_for(platform, "admin")
    create_principal(admin, "reader")
    token = create_api_key(admin, "reader").token
    url = api_server.url  # type: ignore[attr-defined]
    response = httpx.delete(
        f"{url}/api/v1/endpoints/prod", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    events = [e for e in list_audit_events(admin) if e.principal == "reader"]
    assert events[0].outcome == "denied"
    assert events[0].action == "endpoints:DeleteEndpoint"
    assert events[0].resource == "sy:endpoint/prod"
