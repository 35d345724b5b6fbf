"""The data plane and key changes: new keys work at once, revocations land within a second,
and every refusal (and feedback write) is in the audit trail, even across a clean shutdown.

Two serving workers (two apps, each with its own key cache) share one metadata
database, SQLite or PostgreSQL, as workers on several hosts would; the keys and
policies change through the REST control plane.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import sqlalchemy as sa
from dataplanekit import admin_token, register_three, rows
from tests.conftest import LiveServer

from shipyard.api import create_app
from shipyard.client import Client, HttpTransport
from shipyard.endpoints import build_serving_app
from shipyard.platform import Platform
from shipyard.security import CachedKeyAuthorizer
from shipyard.serving import ServingApp, ServingSettings
from shipyard.store.metadata import tables as t

ENDPOINT = "guarded"
INVOKE_BODY = {"instances": rows(1)}
MODEL_HEADERS = ("x-shipyard-variant", "x-shipyard-model-version")


@contextmanager
def _worker(platform: Platform, settings: ServingSettings | None = None) -> Iterator[LiveServer]:
    """One serving worker on 127.0.0.1 with its own connections, as a worker process has;
    leaving runs its clean (lifespan) shutdown.

    Its key cache reloads in full only every minute, so what the tests see within a
    second is the security generation at work, not the periodic reload.
    """
    own = Platform.open(platform.settings.model_copy(update={"key_cache_seconds": 60.0}))
    app = build_serving_app(own, ENDPOINT, settings=settings)
    live = LiveServer(app)
    try:
        yield live
    finally:
        live.close()
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        app.authorizer.stop()
        own.close()


@pytest.fixture
def rest(platform: Platform) -> Iterator[Client]:
    """The SDK over HTTP against a live control plane, as the bootstrap admin."""
    register_three(platform)
    api = LiveServer(create_app(platform))
    client = Client(transport=HttpTransport(api.url, admin_token(platform)))
    client.endpoints.create(ENDPOINT, variants=[{"name": "blue", "model": "bc-model@1"}])
    yield client
    client.close()
    api.close()


def _invoke(live: LiveServer, token: str | None, path: str = "/invocations") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{live.url}{path}", json=INVOKE_BODY, headers=headers, timeout=30)


def _seconds_until_all(workers: list[LiveServer], token: str, status: int) -> float:
    """Poll every worker until each answers ``status``; the seconds that took (at most 10)."""
    started = time.perf_counter()
    pending = list(workers)
    pause = threading.Event()
    while pending and time.perf_counter() - started < 10:
        pending = [w for w in pending if _invoke(w, token).status_code != status]
        pause.wait(0.01)  # the workers share this process: leave their threads the GIL
    assert not pending, f"still not {status} after 10 s"
    return time.perf_counter() - started


def _reloads(workers: list[LiveServer]) -> list[int]:
    """How many times each worker's key cache has read the store."""
    counts = []
    for live in workers:
        app = live.server.config.app
        assert isinstance(app, ServingApp)
        assert isinstance(app.authorizer, CachedKeyAuthorizer)
        counts.append(app.authorizer.reloads)
    return counts


def _member(rest: Client, name: str) -> str:
    rest.iam.create_principal(name)
    rest.iam.put_policy(
        f"{name}-invoke",
        {
            "Statement": [
                {"Effect": "Allow", "Action": "endpoints:Invoke", "Resource": "sy:endpoint/*"}
            ]
        },
    )
    rest.iam.attach_policy(name, f"{name}-invoke")
    token = rest.iam.create_api_key(name).token
    assert token is not None
    return token


def test_new_keys_work_at_once_and_revocations_land_at_the_next_reload(
    platform: Platform, rest: Client
) -> None:
    with ExitStack() as stack:
        workers = [stack.enter_context(_worker(platform)) for _ in range(2)]
        token = _member(rest, "app")
        for worker in workers:  # the first request on each worker, no wait for a reload
            answer = _invoke(worker, token)
            assert answer.status_code == 200, answer.text

        key_id = token.split("_")[1]
        before = _reloads(workers)
        rest.iam.revoke_api_key(key_id)
        revoked = _seconds_until_all(workers, token, 401)
        print(f"\nrevoked key refused by both workers {revoked * 1000:.0f} ms after the REST call")
        # Not a wall-clock bound (the machine may be loaded): the revocation moves the
        # security generation, and each worker enforces it at its next reload (one in
        # flight at the call may have read the old state, and one more may start before
        # the poll sees the refusal).
        assert all(after - was <= 3 for was, after in zip(before, _reloads(workers), strict=True))

        other = _member(rest, "other")
        assert all(_invoke(w, other).status_code == 200 for w in workers)
        before = _reloads(workers)
        rest.iam.detach_policy("other", "other-invoke")
        detached = _seconds_until_all(workers, other, 403)
        print(f"detached policy enforced by both workers after {detached * 1000:.0f} ms")
        assert all(after - was <= 3 for was, after in zip(before, _reloads(workers), strict=True))


def test_made_up_keys_cost_the_database_a_bounded_number_of_lookups(
    platform: Platform, rest: Client
) -> None:
    with _worker(platform) as live:
        app = live.server.config.app
        assert isinstance(app, ServingApp)
        authorizer = app.authorizer
        assert isinstance(authorizer, CachedKeyAuthorizer)
        before = authorizer.lookups
        started = time.monotonic()
        with httpx.Client(base_url=live.url) as http:
            for _ in range(150):
                made_up = f"sy_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
                answer = http.post(
                    "/invocations", json=INVOKE_BODY, headers={"Authorization": f"Bearer {made_up}"}
                )
                assert answer.status_code == 401
        elapsed = time.monotonic() - started
        random_lookups = authorizer.lookups - before
        # A burst of 20, then 20 a second: never one query per made-up key.
        assert random_lookups <= 20 + 20 * elapsed + 1
        repeated = f"sy_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        before = authorizer.lookups
        started = time.monotonic()
        for _ in range(50):
            assert _invoke(live, repeated).status_code == 401
        # The same unknown key is remembered for a second between lookups.
        assert authorizer.lookups - before <= 1 + (time.monotonic() - started)


def test_denials_and_feedback_are_audited_and_none_lost_on_a_clean_shutdown(
    platform: Platform, rest: Client
) -> None:
    powerless = _member(rest, "powerless")
    rest.iam.detach_policy("powerless", "powerless-invoke")
    revoked = _member(rest, "gone")
    rest.iam.revoke_api_key(revoked.split("_")[1])
    made_up = f"sy_{'ab' * 8}_{'x' * 43}"
    # Nothing is written by a tick during the test: only the shutdown flush can store them.
    quiet = ServingSettings(poll_seconds=60, report_seconds=60)
    with _worker(platform, quiet) as live:
        callers = [None, made_up, revoked, powerless, "not a key"]
        statuses = [_invoke(live, callers[i % 5]).status_code for i in range(30)]
        assert statuses.count(403) == 6 and statuses.count(401) == 24
        admin = admin_token_of(rest)
        feedback = httpx.post(
            f"{live.url}/feedback",
            json=[{"request_id": "r-1", "label": 1}, {"request_id": "r-2", "label": 0}],
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert feedback.status_code == 202, feedback.text
        assert _audited(platform, outcome="denied") == []  # off the request path
    denied = _audited(platform, outcome="denied")
    assert len(denied) == 30
    assert {e.action for e in denied} == {"endpoints:Invoke"}
    assert {e.resource for e in denied} == {f"sy:endpoint/{ENDPOINT}"}
    refused_principals = [e.principal for e in denied if e.detail["status"] == 403]
    assert refused_principals == ["powerless"] * 6
    by_key = {e.detail["key_id"] for e in denied if e.detail["status"] == 401}
    assert {"ab" * 8, revoked.split("_")[1], None} == by_key
    (written,) = _audited(platform, action="endpoints:PutFeedback")
    assert (written.principal, written.outcome, written.detail["records"]) == (
        "admin",
        "succeeded",
        2,
    )


def admin_token_of(rest: Client) -> str:
    """A fresh admin key, made over REST (the fixture's key is not kept)."""
    token = rest.iam.create_api_key("admin").token
    assert token is not None
    return token


def _audited(platform: Platform, **where: str) -> list[t.AuditEvent]:
    query = sa.select(t.AuditEvent).order_by(t.AuditEvent.id)
    for column, value in where.items():
        query = query.where(getattr(t.AuditEvent, column) == value)
    with platform.db.session() as session:
        return [e for e in session.scalars(query) if e.detail.get("plane") == "data"]


def test_refused_callers_learn_no_variant_or_model_version(
    platform: Platform, rest: Client
) -> None:
    powerless = _member(rest, "nobody")
    rest.iam.detach_policy("nobody", "nobody-invoke")
    with _worker(platform) as live:
        allowed = _invoke(live, admin_token_of(rest))
        assert allowed.status_code == 200
        assert all(name in allowed.headers for name in MODEL_HEADERS)
        for token, status in ((None, 401), ("sy_bad", 401), (powerless, 403)):
            for path in ("/invocations", "/v2/models/bc-model/infer", "/v2/models/bc-model"):
                refused = (
                    _invoke(live, token, path)
                    if path.endswith(("invocations", "infer"))
                    else httpx.get(
                        f"{live.url}{path}",
                        headers={"Authorization": f"Bearer {token}"} if token else {},
                    )
                )
                assert refused.status_code == status, (path, refused.text)
                assert not [name for name in MODEL_HEADERS if name in refused.headers], path
                assert "bc-model" not in refused.text or path.endswith("infer") is False
                if path.startswith("/v2/"):
                    assert list(refused.json()) == ["error"]
                    assert isinstance(refused.json()["error"], str)
                else:
                    assert refused.json()["error"]["type"] in {"Unauthenticated", "AccessDenied"}
