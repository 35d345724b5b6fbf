"""The session in a real Chromium: cookies the page's script cannot read, CSRF from the page,
a page of another origin refused although the browser sends the cookie, the CSP enforced."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from tests.console.conftest import READY, ConsoleServer, login_by_fetch

FETCH = """async ([method, path, body, csrf]) => {
    const headers = {'Content-Type': 'application/json'};
    if (csrf) headers['X-CSRF-Token'] = csrf;
    const r = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
    return {status: r.status, body: await r.text()};
}"""
CSRF_FROM_COOKIE = """() => document.cookie.split('; ').find(c => c.startsWith('shipyard_csrf='))
    ?.split('=')[1]"""


def _principals(server: ConsoleServer) -> set[str]:
    listed = httpx.get(
        f"{server.url}/api/v1/principals",
        headers={"Authorization": f"Bearer {server.seeded.admin_key}"},
    )
    return {p["name"] for p in listed.json()["items"]}


def test_the_session_cookie_is_httponly_and_the_page_sends_the_csrf_token(
    page: Any, console_server: ConsoleServer
) -> None:
    answer = login_by_fetch(page, console_server.seeded.admin_key)
    assert answer["status"] == 200 and answer["body"]["principal"] == "admin"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["shipyard_session"]["httpOnly"] is True
    assert cookies["shipyard_session"]["sameSite"] == "Strict"
    assert cookies["shipyard_csrf"]["httpOnly"] is False
    seen = page.evaluate("() => document.cookie")
    assert "shipyard_csrf=" in seen and "shipyard_session" not in seen
    listed = page.evaluate(FETCH, ["GET", "/api/v1/datasets", None, None])
    assert listed["status"] == 200 and "bc" in listed["body"]
    refused = page.evaluate(FETCH, ["POST", "/api/v1/principals", {"name": "pat"}, None])
    assert refused["status"] == 403
    assert "pat" not in _principals(console_server)
    csrf = page.evaluate(CSRF_FROM_COOKIE)
    made = page.evaluate(FETCH, ["POST", "/api/v1/principals", {"name": "pat"}, csrf])
    assert made["status"] == 201
    assert "pat" in _principals(console_server)
    page.goto("/")
    page.wait_for_selector(READY)


def test_a_principal_without_permission_gets_a_refusal_not_the_data(
    page: Any, console_server: ConsoleServer
) -> None:
    assert login_by_fetch(page, console_server.seeded.analyst_key)["status"] == 200
    models = page.evaluate(FETCH, ["GET", "/api/v1/models", None, None])
    assert models["status"] == 403
    assert "AccessDenied" in models["body"] and "bc-model" not in models["body"]
    datasets = page.evaluate(FETCH, ["GET", "/api/v1/datasets", None, None])
    assert datasets["status"] == 200


class _AttackerPage(BaseHTTPRequestHandler):
    """A page on another origin (same host, other port: the same site, so the browser
    sends the console's SameSite=Strict cookie along) that posts to the console."""

    target = ""

    def do_GET(self) -> None:
        script = (
            "<script>fetch('" + self.target + "/api/v1/principals', {method: 'POST', "
            "mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, "
            "body: JSON.stringify({name: 'mallet'})}).finally(() => "
            "document.body.dataset.sent = '1');</script>"
        )
        body = f"<!doctype html><html><body>{script}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def attacker(console_server: ConsoleServer) -> Iterator[str]:
    handler = type("Handler", (_AttackerPage,), {"target": console_server.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_of_another_origin_cannot_act_with_the_session(
    page: Any, console_server: ConsoleServer, attacker: str
) -> None:
    assert login_by_fetch(page, console_server.seeded.admin_key)["status"] == 200
    requests: list[Any] = []
    page.on("request", lambda r: requests.append(r) if "/api/v1/principals" in r.url else None)
    page.goto(attacker)
    page.wait_for_selector("body[data-sent='1']", state="attached")
    assert requests, "the attacker's request was not sent"
    response = requests[0].response()
    # 403, not 401: the cookie arrived (without one the answer is "no credentials") and
    # the foreign Origin was refused before anything ran
    assert response is not None and response.status == 403
    assert "mallet" not in _principals(console_server)


def test_the_content_security_policy_blocks_inline_script(
    page: Any, console_server: ConsoleServer
) -> None:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text))
    page.goto("/")
    page.wait_for_selector(READY)
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.injected = 1'; document.body.append(s); }"""
    )
    assert page.evaluate("() => window.injected") is None
    assert any("Content Security Policy" in text for text in violations)
