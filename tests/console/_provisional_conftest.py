"""Provisional fixtures for the console page tests, until the server's console lands.

Serves the pages over the real control plane with a stand-in for ``/console/session``
(the key kept server-side in memory, a cookie session id and a ``shipyard_csrf`` cookie
whose value unsafe requests must echo in ``X-CSRF-Token``). Seeds a home: a dataset in
two versions with a contract report, training runs and one with long metric curves, two
model versions, a small tuning job, an endpoint with two variants, an endpoint with a
rollout under way, and a principal ``reader`` that may only read datasets.

Pytest prefers ``tests/conftest.py``'s ``admin_key`` to a plugin's, so for a run copy this
file to ``tests/console/conftest.py`` (uncommitted); the server's conftest replaces it.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tests.conftest import LiveServer
from tests.fixtures.lifecycle import lightgbm_spec

from shipyard.api import create_app
from shipyard.cli._quickstart import write_breast_cancer_csv
from shipyard.client import Client
from shipyard.config import Settings
from shipyard.errors import ShipyardError
from shipyard.platform import Platform
from shipyard.security import authenticate, bootstrap, issue_admin_key_if_none

STATIC = Path(__file__).resolve().parents[2] / "src" / "shipyard" / "console" / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'"
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _console_app(platform: Platform) -> Any:
    app = create_app(platform)
    sessions: dict[str, tuple[str, str, str]] = {}

    def _error(status: int, kind: str, message: str) -> JSONResponse:
        return JSONResponse(
            {"error": {"type": kind, "message": message, "field": None}}, status_code=status
        )

    class Session(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Any:
            held = sessions.get(request.cookies.get("sid", ""))
            if request.url.path.startswith("/api/") and held:
                if (
                    request.method not in ("GET", "HEAD")
                    and request.headers.get("x-csrf-token") != held[1]
                ):
                    return _error(403, "AccessDenied", "missing or wrong CSRF token")
                headers = [(k, v) for k, v in request.scope["headers"] if k != b"authorization"]
                headers.append((b"authorization", f"Bearer {held[0]}".encode()))
                request.scope["headers"] = headers
            response = await call_next(request)
            response.headers["Content-Security-Policy"] = CSP
            return response

    app.add_middleware(Session)

    @app.post("/console/session")
    async def login(request: Request) -> Response:
        key = str((await request.json()).get("key", ""))
        try:
            ctx = authenticate(platform, f"Bearer {key}", "console")
        except ShipyardError as exc:
            return _error(401, "Unauthenticated", str(exc))
        sid, csrf = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        sessions[sid] = (key, csrf, ctx.principal)
        response = JSONResponse({"principal": ctx.principal, "expires_at": None})
        response.set_cookie("sid", sid, httponly=True, samesite="strict")
        response.set_cookie("shipyard_csrf", csrf, samesite="strict")
        return response

    @app.get("/console/session")
    async def whoami(request: Request) -> Response:
        held = sessions.get(request.cookies.get("sid", ""))
        if not held:
            return _error(401, "Unauthenticated", "no session")
        return JSONResponse({"principal": held[2], "expires_at": None})

    @app.delete("/console/session")
    async def logout(request: Request) -> Response:
        held = sessions.get(request.cookies.get("sid", ""))
        if held and request.headers.get("x-csrf-token") == held[1]:
            sessions.pop(request.cookies.get("sid", ""), None)
        return Response(status_code=204)

    @app.get("/")
    async def index() -> Response:
        return FileResponse(STATIC / "index.html")

    @app.get("/static/{path:path}")
    async def static(path: str) -> Response:
        file = (STATIC / path).resolve()
        if not file.is_relative_to(STATIC) or not file.is_file():
            return _error(404, "NotFound", "no such file")
        media = {"js": "text/javascript", "css": "text/css", "html": "text/html"}
        return FileResponse(file, media_type=media.get(file.suffix[1:], "text/plain"))

    return app


def _seed(sdk: Client, tmp: Path) -> dict[str, str]:
    """The data every page shows; returns names and ids the tests look for."""
    csv = write_breast_cancer_csv(tmp / "bc.csv")
    sdk.datasets.ingest(csv, "bc")
    frame = pd.read_csv(csv)
    frame["mean_radius"] = frame["mean_radius"] * 1.4
    frame.to_csv(tmp / "bc2.csv", index=False)
    sdk.datasets.ingest(tmp / "bc2.csv", "bc")
    suggestion = sdk.contracts.suggest("bc@1", name="bc-contract")
    sdk.contracts.apply(suggestion.contract)
    sdk.contracts.validate("bc@2", "bc-contract")

    job = sdk.training.train(lightgbm_spec("bc@1", experiment="console"), timeout=120)
    assert job.run_id is not None
    sdk.models.register("bc-model", job.run_id)
    sdk.models.register("bc-model", job.run_id)
    sdk.models.set_approval("bc-model", 1, "Approved")

    run = sdk.tracking.start_run("console", name="long-curves")
    run.log_params({"lr": 0.1})
    for step in range(1500):
        run.log_metrics({"loss": math.exp(-step / 300) + 0.01 * math.sin(step)}, step=step)
    run.end()

    tuning = sdk.tuning.tune(
        {
            "name": "bc-tune",
            "training": lightgbm_spec("bc@1", experiment="console-tuning"),
            "objective": {"metric": "roc_auc", "direction": "maximize"},
            "strategy": "random",
            "max_trials": 3,
            "max_parallel": 1,
            "seed": 0,
            "search_space": {"num_leaves": {"type": "int", "low": 4, "high": 16}},
        },
        timeout=180,
    )

    sdk.endpoints.create("bc-live", "bc-model@1")
    sdk.endpoints.add_variant("bc-live", "challenger", "bc-model@2", weight=0.0)
    sdk.endpoints.create("bc-canary", "bc-model@1")
    sdk.deployments.start("bc-canary", "bc-model@2", strategy="canary", canary_percent=20)

    with contextlib.suppress(ShipyardError):
        sdk.iam.create_principal("reader")
    sdk.iam.put_policy(
        "ReadDatasets",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["datasets:Get*", "datasets:List*"],
                    "Resource": ["*"],
                }
            ]
        },
    )
    sdk.iam.attach_policy("reader", "ReadDatasets")
    reader = sdk.iam.create_api_key("reader").token
    assert reader is not None
    return {"reader_key": reader, "run_id": run.id, "tuning_id": tuning.id}


@pytest.fixture(scope="session")
def console_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("console")
    settings = Settings(home=tmp / "home", key_cache_seconds=0.2)
    platform = Platform.open(settings)
    bootstrap(platform)
    key = issue_admin_key_if_none(platform)
    assert key is not None
    live = LiveServer(_console_app(platform))
    sdk = Client(live.url, api_key=key.token)
    started = time.monotonic()
    seeded = _seed(sdk, tmp)
    print(f"\nconsole seed: {time.monotonic() - started:.1f} s")
    yield {"url": live.url, "admin_key": key.token, **seeded}
    sdk.close()
    live.close()
    platform.close()


@pytest.fixture(scope="session")
def console_url(console_home: dict[str, Any]) -> str:
    return str(console_home["url"])


@pytest.fixture(scope="session")
def admin_key(console_home: dict[str, Any]) -> str:
    return str(console_home["admin_key"])


@pytest.fixture(scope="session")
def reader_key(console_home: dict[str, Any]) -> str:
    return str(console_home["reader_key"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()
