"""The console's login session over real HTTP: cookies, expiry, revocation, CSRF, Origin, Host.

Every check runs against ``shipyard server`` in a subprocess; the stored state is looked at
in the server's own SQLite file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest
from tests.console.conftest import ConsoleServer, free_port, start_server, stop_server

from shipyard.console import CONTENT_SECURITY_POLICY
from shipyard.security._keys import hash_secret


def _db(server: ConsoleServer) -> sqlite3.Connection:
    return sqlite3.connect(server.seeded.home / "shipyard.db")


def _set_cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """Each Set-Cookie of the response by name: its value and attributes (lower case)."""
    found: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            attributes: dict[str, str | bool] = {"value": morsel.value}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attributes[key.lower()] = value or True
            found[name] = attributes
    return found


def _login(http: httpx.Client, key: str) -> httpx.Response:
    answer = http.post("/console/session", json={"key": key})
    assert answer.status_code == 200, answer.text
    return answer


def _csrf(http: httpx.Client) -> dict[str, str]:
    return {"X-CSRF-Token": http.cookies["shipyard_csrf"]}


@pytest.fixture
def http(console_server: ConsoleServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=console_server.url, timeout=30) as client:
        yield client


def _principals(http: httpx.Client, admin_key: str) -> set[str]:
    listed = http.get("/api/v1/principals", headers={"Authorization": f"Bearer {admin_key}"})
    return {p["name"] for p in listed.json()["items"]}


def test_the_page_and_its_files_carry_the_security_headers(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-cache"
    again = http.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    paths = (
        "/static/index.html",
        "/static/%2e%2e/__init__.py",
        "/static/x%2f..%2f..%2f_static.py",
        "/static/.hidden",
        "/static/nope.js",
        "/static/",
    )
    for path in paths:
        answer = http.get(path)
        if path == "/static/index.html":
            assert answer.status_code == 200
            continue
        assert answer.status_code == 404, path
        assert answer.json()["error"]["type"] == "NotFound", path
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_login_sets_an_httponly_strict_cookie_and_stores_only_hashes(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    answer = _login(http, console_server.seeded.admin_key)
    assert answer.json()["principal"] == "admin"
    assert "expires_at" in answer.json()
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    cookies = _set_cookies(answer)
    session, csrf = cookies["shipyard_session"], cookies["shipyard_csrf"]
    assert session["httponly"] is True and "httponly" not in csrf
    for cookie in (session, csrf):
        assert cookie["samesite"] == "strict"
        assert cookie["path"] == "/"
        assert cookie["max-age"] == str(480 * 60)
        assert "secure" not in cookie  # plain http on loopback; https sets Secure
    token, csrf_token = str(session["value"]), str(csrf["value"])
    with _db(console_server) as db:
        rows = db.execute("SELECT token_hash, csrf_hash FROM console_sessions").fetchall()
    assert (hash_secret(token), hash_secret(csrf_token)) in rows
    assert not any(token in row or csrf_token in row for row in rows)
    me = http.get("/console/session")
    assert me.status_code == 200 and me.json()["principal"] == "admin"
    assert http.get("/api/v1/datasets").status_code == 200  # the cookie authenticates the API


def test_a_wrong_key_gets_401_in_the_api_error_shape(http: httpx.Client) -> None:
    wrong = http.post("/console/session", json={"key": "sy_0123456789abcdef_" + "a" * 43})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "Unauthenticated"
    assert "set-cookie" not in wrong.headers
    missing = http.post("/console/session", json={})
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "key"
    malformed = http.post("/console/session", content=b"{", headers={"Content-Type": "x"})
    assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "body"
    assert http.get("/console/session").status_code == 401


def test_logout_needs_the_csrf_token_then_ends_the_session_server_side(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    _login(http, console_server.seeded.admin_key)
    token = http.cookies["shipyard_session"]
    refused = http.delete("/console/session")
    assert refused.status_code == 403
    assert http.get("/console/session").status_code == 200
    out = http.delete("/console/session", headers=_csrf(http))
    assert out.status_code == 204
    cleared = _set_cookies(out)
    assert cleared["shipyard_session"]["max-age"] == "0"
    assert cleared["shipyard_csrf"]["max-age"] == "0"
    with _db(console_server) as db:
        left = db.execute(
            "SELECT count(*) FROM console_sessions WHERE token_hash = ?", (hash_secret(token),)
        ).fetchone()
    assert left == (0,)
    replay = httpx.get(f"{console_server.url}/api/v1/datasets", cookies={"shipyard_session": token})
    assert replay.status_code == 401


def test_an_expired_session_is_refused(console_server: ConsoleServer, http: httpx.Client) -> None:
    _login(http, console_server.seeded.admin_key)
    token = http.cookies["shipyard_session"]
    with _db(console_server) as db:
        db.execute(
            "UPDATE console_sessions SET expires_at = '2000-01-01 00:00:00.000000' "
            "WHERE token_hash = ?",
            (hash_secret(token),),
        )
    assert http.get("/console/session").status_code == 401
    assert http.get("/api/v1/datasets").status_code == 401


def test_signing_in_counts_as_a_use_of_the_key(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    admin = {"Authorization": f"Bearer {console_server.seeded.admin_key}"}
    key = http.post("/api/v1/principals/admin/keys", headers=admin).json()

    def last_used() -> str | None:
        listed = http.get("/api/v1/principals/admin/keys?limit=1000", headers=admin).json()
        found: str | None = next(
            k["last_used_at"] for k in listed["items"] if k["key_id"] == key["key_id"]
        )
        return found

    assert last_used() is None
    other = "y" if key["token"].endswith("x") else "x"
    wrong = http.post("/console/session", json={"key": key["token"][:-1] + other})
    assert wrong.status_code == 401
    assert last_used() is None  # a failed sign-in is no use
    _login(http, key["token"])
    assert last_used() is not None  # written with the session, before the answer


def test_revoking_the_key_or_removing_the_principal_ends_its_sessions(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    admin = {"Authorization": f"Bearer {console_server.seeded.admin_key}"}
    key = http.post("/api/v1/principals/admin/keys", headers=admin).json()
    _login(http, key["token"])
    assert http.get("/api/v1/datasets").status_code == 200
    assert http.delete(f"/api/v1/keys/{key['key_id']}", headers=admin).status_code == 200
    assert http.get("/api/v1/datasets").status_code == 401
    assert http.get("/console/session").status_code == 401

    assert http.post("/api/v1/principals", json={"name": "temp"}, headers=admin).is_success
    temp = http.post("/api/v1/principals/temp/keys", headers=admin).json()["token"]
    http.cookies.clear()
    _login(http, temp)
    assert http.get("/console/session").json()["principal"] == "temp"
    with _db(console_server) as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM principals WHERE name = 'temp'")
    assert http.get("/console/session").status_code == 401


def test_unsafe_requests_need_the_csrf_token(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    admin_key = console_server.seeded.admin_key
    _login(http, admin_key)
    for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
        refused = http.post("/api/v1/principals", json={"name": "mallory"}, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json()["error"]["type"] == "AccessDenied"
    assert "mallory" not in _principals(http, admin_key)
    made = http.post("/api/v1/principals", json={"name": "mallory"}, headers=_csrf(http))
    assert made.status_code == 201
    assert "mallory" in _principals(http, admin_key)


def test_a_foreign_origin_is_refused(console_server: ConsoleServer, http: httpx.Client) -> None:
    admin_key = console_server.seeded.admin_key
    foreign = {"Origin": "http://evil.example"}
    assert (
        http.post("/console/session", json={"key": admin_key}, headers=foreign).status_code == 403
    )
    _login(http, admin_key)
    refused = http.post("/api/v1/principals", json={"name": "eve"}, headers=_csrf(http) | foreign)
    assert refused.status_code == 403
    assert "eve" not in _principals(http, admin_key)
    for origin in ("null", f"https://127.0.0.1:{console_server.port}"):
        denied = http.get("/api/v1/datasets", headers={"Origin": origin})
        assert denied.status_code == 403, origin
    same = {"Origin": console_server.url}
    assert http.post(
        "/api/v1/principals", json={"name": "eve"}, headers=_csrf(http) | same
    ).is_success


def test_a_foreign_host_is_refused_dns_rebinding(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    seeded = console_server.seeded
    rebound = {"Host": f"evil.example:{console_server.port}"}
    for path in ("/", "/static/index.html", "/console/session"):
        answer = http.get(path, headers=rebound)
        assert answer.status_code == 400, path
        assert answer.json()["error"]["field"] == "Host"
    assert (
        http.post("/console/session", json={"key": seeded.admin_key}, headers=rebound).status_code
        == 400
    )
    _login(http, seeded.admin_key)
    assert http.get("/api/v1/datasets", headers=rebound).status_code == 400
    for host in (f"localhost:{console_server.port}", f"[::1]:{console_server.port}"):
        assert http.get("/api/v1/datasets", headers={"Host": host}).status_code == 200, host
    assert http.get("/", headers={"Host": "127.0.0.1"}).status_code == 400  # wrong port
    bearer = {"Authorization": f"Bearer {seeded.admin_key}"}
    assert httpx.get(f"{console_server.url}/api/v1/datasets", headers=bearer | rebound).is_success


def test_bearer_clients_are_unaffected_and_the_header_wins(
    console_server: ConsoleServer, http: httpx.Client
) -> None:
    seeded = console_server.seeded
    bearer = {"Authorization": f"Bearer {seeded.admin_key}", "Origin": "http://elsewhere.example"}
    made = http.post("/api/v1/principals", json={"name": "bob"}, headers=bearer)
    assert made.status_code == 201  # no CSRF token, a foreign Origin: a key is not a cookie
    _login(http, seeded.analyst_key)
    assert http.get("/api/v1/models").status_code == 403  # the analyst may not list models
    as_admin = http.get("/api/v1/models", headers={"Authorization": f"Bearer {seeded.admin_key}"})
    assert as_admin.status_code == 200
    assert http.get("/api/v1/datasets").status_code == 200


@pytest.fixture
def strict_server(console_server: ConsoleServer) -> Iterator[ConsoleServer]:
    """A second server over the same home: 3 failed logins a minute, one extra host name."""
    port = free_port()
    process = start_server(
        console_server.seeded.home,
        port,
        console_login_failures_per_minute="3",
        console_allowed_hosts=f"console.example:{port}",
    )
    yield ConsoleServer(f"http://127.0.0.1:{port}", port, console_server.seeded)
    stop_server(process)


def test_failed_logins_are_rate_limited_per_address_and_hosts_are_configurable(
    strict_server: ConsoleServer,
) -> None:
    bad = {"key": "sy_0123456789abcdef_" + "b" * 43}
    with httpx.Client(base_url=strict_server.url) as http:
        statuses = [http.post("/console/session", json=bad).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        limited = http.post("/console/session", json={"key": strict_server.seeded.admin_key})
        assert limited.status_code == 429  # a right key waits too, once the address is out
        assert limited.json()["error"]["type"] == "TooManyRequests"
        assert int(limited.headers["retry-after"]) >= 1
        named = http.get("/", headers={"Host": f"console.example:{strict_server.port}"})
        assert named.status_code == 200


def test_the_console_files_are_in_the_package(console_server: ConsoleServer) -> None:
    import shipyard.console

    static = Path(shipyard.console.__file__).parent / "static"
    assert (static / "index.html").is_file()
