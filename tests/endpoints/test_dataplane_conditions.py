"""Policy conditions on the data plane, evaluated as the control plane evaluates them.

A serving worker decides ``endpoints:Invoke`` from memory, with every fact a control-plane
request has: the client's address (``sy:SourceIp``), whether it came over TLS
(``sy:SecureTransport``), the endpoint's tags (``sy:ResourceTag/*``) and the caller's
(``sy:PrincipalTag/*``). Changes to policies and tags land through the security
generation: the workers here reload in full only every minute, so a change seen within
the wait is the generation at work, not the periodic reload.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from dataplanekit import admin_token, register_three, rows
from tests.conftest import LiveServer

from shipyard.cli._servers import bound_port, start_in_thread, uvicorn_server
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.endpoints import build_serving_app
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer, bootstrap
from shipyard.serving import ServingApp
from shipyard.tls._dev import make_ca, make_server_cert
from shipyard.tls._server import ServerTLS

ENDPOINT = "guarded"
BODY = {"instances": rows(1)}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    opened = Platform.open(Settings(home=tmp_path / "home", key_cache_seconds=60.0))
    bootstrap(opened)
    register_three(opened)
    admin_token(opened)
    yield opened
    opened.close()


@pytest.fixture
def admin(platform: Platform) -> Iterator[Client]:
    client = Client(settings=platform.settings)
    client.endpoints.create(ENDPOINT, variants=[{"name": "blue", "model": "bc-model@1"}])
    yield client
    client.close()


def _app(platform: Platform) -> ServingApp:
    return build_serving_app(platform, ENDPOINT)


def _stop(app: ServingApp) -> None:
    assert isinstance(app.authorizer, CachedKeyAuthorizer)
    app.authorizer.stop()


@contextmanager
def _plain(platform: Platform) -> Iterator[str]:
    app = _app(platform)
    live = LiveServer(app)
    try:
        yield live.url
    finally:
        live.close()
        _stop(app)


def _member(admin: Client, name: str, condition: dict[str, Any]) -> str:
    """A principal whose only policy allows invoking endpoints under ``condition``."""
    admin.iam.create_principal(name)
    _policy(admin, name, condition)
    admin.iam.attach_policy(name, name)
    token = admin.iam.create_api_key(name).token
    assert token is not None
    return token


def _policy(admin: Client, name: str, condition: dict[str, Any]) -> None:
    statement = {
        "Effect": "Allow",
        "Action": "endpoints:Invoke",
        "Resource": "sy:endpoint/*",
        "Condition": condition,
    }
    admin.iam.put_policy(name, {"Statement": [statement]})


def _invoke(url: str, token: str, verify: ssl.SSLContext | bool = True) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(f"{url}/invocations", json=BODY, headers=headers, verify=verify, timeout=30)
    return answer.status_code


def _until(url: str, token: str, status: int) -> None:
    """Poll until the worker answers ``status``: within the key cache's poll (0.2 s) plus
    a reload; 10 s is only the give-up point for a broken cache."""
    deadline = time.monotonic() + 10
    pause = threading.Event()
    while (seen := _invoke(url, token)) != status:
        assert time.monotonic() < deadline, f"still {seen}, not {status}"
        pause.wait(0.02)


def test_source_ip_condition_refuses_loopback_until_the_policy_allows_it(
    platform: Platform, admin: Client
) -> None:
    token = _member(admin, "app", {"IpAddress": {"sy:SourceIp": "10.0.0.0/8"}})
    with _plain(platform) as url:
        assert _invoke(url, token) == 403
        _policy(admin, "app", {"IpAddress": {"sy:SourceIp": ["10.0.0.0/8", "127.0.0.0/8"]}})
        _until(url, token, 200)
        _policy(admin, "app", {"NotIpAddress": {"sy:SourceIp": "127.0.0.1/32"}})
        _until(url, token, 403)


def test_secure_transport_condition_refuses_http_and_allows_tls(
    platform: Platform, admin: Client, tmp_path: Path
) -> None:
    token = _member(admin, "app", {"Bool": {"sy:SecureTransport": "true"}})
    ca = make_ca(tmp_path / "dev").cert
    server = make_server_cert(tmp_path / "dev", ["localhost", "127.0.0.1"])
    app = _app(platform)
    running = uvicorn_server(app, "127.0.0.1", 0, ServerTLS(server.cert, server.key))
    thread = start_in_thread(running)
    try:
        with _plain(platform) as url:
            assert _invoke(url, token) == 403
        https = f"https://127.0.0.1:{bound_port(running)}"
        assert _invoke(https, token, ssl.create_default_context(cafile=str(ca))) == 200
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        _stop(app)


def test_resource_tag_condition_follows_the_endpoints_tags(
    platform: Platform, admin: Client
) -> None:
    token = _member(admin, "app", {"StringEquals": {"sy:ResourceTag/team": "risk"}})
    with _plain(platform) as url:
        assert _invoke(url, token) == 403
        admin.iam.tag(f"sy:endpoint/{ENDPOINT}", {"team": "risk"})
        _until(url, token, 200)
        admin.iam.tag(f"sy:endpoint/{ENDPOINT}", {"team": "growth"})
        _until(url, token, 403)
        admin.iam.tag(f"sy:endpoint/{ENDPOINT}", {"team": "risk"})
        _until(url, token, 200)
        admin.iam.untag(f"sy:endpoint/{ENDPOINT}", ["team"])
        _until(url, token, 403)


def test_principal_tag_condition_follows_the_callers_tags(
    platform: Platform, admin: Client
) -> None:
    token = _member(admin, "app", {"StringEquals": {"sy:PrincipalTag/tier": "gold"}})
    with _plain(platform) as url:
        assert _invoke(url, token) == 403
        admin.iam.tag("sy:principal/app", {"tier": "gold"})
        _until(url, token, 200)
        admin.iam.untag("sy:principal/app", ["tier"])
        _until(url, token, 403)


def test_a_deny_on_a_tag_wins_over_an_unconditional_allow(
    platform: Platform, admin: Client
) -> None:
    """The same evaluator: an explicit Deny whose condition holds beats any Allow."""
    admin.iam.create_principal("app")
    admin.iam.put_policy(
        "app",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "endpoints:*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "endpoints:Invoke",
                    "Resource": "sy:endpoint/*",
                    "Condition": {"StringEquals": {"sy:ResourceTag/frozen": "yes"}},
                },
            ]
        },
    )
    admin.iam.attach_policy("app", "app")
    token = admin.iam.create_api_key("app").token
    assert token is not None
    with _plain(platform) as url:
        assert _invoke(url, token) == 200
        admin.iam.tag(f"sy:endpoint/{ENDPOINT}", {"frozen": "yes"})
        _until(url, token, 403)
